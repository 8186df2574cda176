/** `npm run example:mercurius` as a real child process, configured only through its environment. */
import { exampleProcessSuite } from '../support/example-process-suite.js';

exampleProcessSuite('example:mercurius', 'mercurius', 4008);
