/**
 * The smoke suite inside a Cloudflare Worker: every request runs it and answers the report as JSON
 * (status 500 when a check failed). `scripts/matrix` bundles this with esbuild and serves it with Miniflare.
 */
import { runSmoke } from './smoke.js';

export default {
  async fetch(): Promise<Response> {
    const report = await runSmoke();
    return Response.json(report, { status: report.failed === 0 && report.passed > 0 ? 200 : 500 });
  },
};
