// Starts the embedded MLflow server, prints its URL, and dies with SIGKILL, as a `dermatune run`
// killed mid-sweep would. Usage: node tests/tracking/server-then-die.ts <store-dir>
import { startTrackingServer } from '../../runner/tracking/mlflow-server.ts';

const started = await startTrackingServer({ storeDir: process.argv[2] as string });
if (!started.ok) throw new Error(started.error.message);
process.stdout.write(`${started.value.url}\n`);
process.kill(process.pid, 'SIGKILL');
