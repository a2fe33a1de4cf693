/**
 * The file a running job's monitor (`serveMonitor` of `sluice/monitor`) writes into its
 * checkpoint directory while it serves: `{ "url": "http://127.0.0.1:9090/", "pid": 4242, "token": false }`
 * (`token`: whether requests need the bearer token). Tools such as `sluice inspect` read it to
 * reach a job whose checkpoint is locked by the running process; the monitor removes it when it
 * closes. A checkpoint directory may hold it before its first commit.
 */
export const MONITOR_DISCOVERY_FILE = 'sluice-monitor.json';
