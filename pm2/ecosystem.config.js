// Run by `pm2-runtime pm2/ecosystem.config.js` as the container's command.
//
// One service process in fork mode. PM2's cluster mode is for Node programs only (it shares a
// listening socket between Node workers); our parallelism is the service's own libvips process
// pool, sized from the task's CPU quota, so more than one instance would oversubscribe the cores.
//
// Shutdown order on ECS: SIGTERM -> pm2-runtime sends SIGINT to the service -> /ready turns 503,
// in-flight requests finish within SHUTDOWN_TIMEOUT_SECONDS (90) -> the service exits 0.
// kill_timeout (100 s) > SHUTDOWN_TIMEOUT_SECONDS (90 s) < ECS stopTimeout (120 s), so the
// drain completes before PM2 or ECS would SIGKILL it.
module.exports = {
  apps: [
    {
      name: 'imageconv',
      script: 'python3',
      args: '-m service',
      interpreter: 'none',
      exec_mode: 'fork',
      instances: 1,
      cwd: '/app',
      autorestart: true,
      exp_backoff_restart_delay: 200, // 200 ms, doubling up to 15 s, reset after 30 s of uptime
      max_restarts: 50,
      min_uptime: '10s',
      kill_timeout: 100000,
      treekill: false, // the service stops its own worker pool; a tree kill would cut jobs mid-flight
      max_memory_restart: '2800M', // under the 3 GiB task; pm2 restarts it gracefully before an OOM kill
      merge_logs: true,
      time: false, // logs are JSON lines with their own timestamps
      env: {
        HOST: '0.0.0.0',
        PORT: '8000',
      },
    },
  ],
};
