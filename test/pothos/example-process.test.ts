/** `npm run example:pothos` as a real child process, configured only through its environment. */
import { exampleProcessSuite } from '../support/example-process-suite.js';

exampleProcessSuite('example:pothos', 'pothos', 4009);
