// Run by `node pm2/runtime.js pm2/ecosystem.config.js` (pm2-runtime with a clean drain reported as
// exit status 0), the container's command (see the Dockerfile).
//
// One service process in fork mode, never cluster mode: PM2's cluster mode shares a listening
// socket between Node.js workers and does not apply to a Python program. Parallelism is the
// service's own libvips process pool, sized from the task's CPU quota (WORKERS=auto), so a second
// instance would only oversubscribe the cores and split admission control in two.
//
// Shutdown, in order (ECS stop, Spot interruption or deployment):
//   ECS sends SIGTERM -> tini (PID 1) -> pm2-runtime -> PM2 sends PM2_KILL_SIGNAL (SIGTERM, set in
//   the Dockerfile) to the service -> /ready turns 503 and the service keeps accepting for
//   PRESTOP_SECONDS while the load balancer deregisters it, then in-flight requests finish within
//   SHUTDOWN_TIMEOUT_SECONDS (40 s in the stack), the pool stops, the service exits 0, and so does
//   the container. kill_timeout (55 s) is above the stack's 10 s + 40 s and below the task's
//   stopTimeout (60 s), so neither PM2 nor ECS SIGKILLs a draining process; and the target group's
//   30 s deregistration delay + 60 s fit the two-minute Spot notice with margin.
// Why SIGTERM and not PM2's default SIGINT: while the app drains, pm2-runtime's auto-exit check
// sees "0 apps online" and sends the kill signal a second time (~8 s later); a second SIGINT makes
// uvicorn force-exit and cut in-flight requests, a second SIGTERM does not.
//
// Settings come from the container's environment (Dockerfile ENV, then the task definition);
// this file adds none of its own, so the task definition stays the one place to change them.
module.exports = {
  apps: [
    {
      name: 'imageconv',
      script: 'python', // the virtual environment's python (first on PATH in the image)
      args: ['-m', 'service'],
      interpreter: 'none', // run the script as a program, not under node
      exec_mode: 'fork',
      instances: 1,
      autorestart: true,
      // Crash restarts wait 100 ms, then 1.5x longer each time up to 15 s; reset after 30 s up.
      exp_backoff_restart_delay: 100,
      // 10 crashes in a row, each within 30 s of starting: give up, so pm2-runtime exits, the task
      // stops and ECS (and the deployment circuit breaker) sees it instead of a restart loop.
      max_restarts: 10,
      min_uptime: '30s',
      // Exit status 2 = invalid settings (python -m service validates them first): restarting
      // cannot help, so stop at once and let the container exit.
      stop_exit_codes: [2],
      kill_timeout: 55000,
      kill_retry_time: 1000, // how often PM2 logs "still alive" while the service drains
      // The service stops its own pool; a tree kill would signal the workers mid-job.
      treekill: false,
      // PM2 measures the server process only (the pool's workers are separate processes, bounded
      // by MAX_INPUT_PIXELS and the task's memory limit). Request bodies pass through it, so the
      // ceiling leaves room for a full socket limit of uploads before calling it a leak; the
      // restart is graceful (same kill signal and kill_timeout).
      max_memory_restart: '2048M',
      merge_logs: true,
      time: false, // the service logs JSON lines with their own timestamps
      // Logs go to the container's stdout only (pm2-runtime streams them there). PM2's default
      // also writes every line to ~/.pm2/logs/*.log inside the container, unrotated: about 200
      // bytes a request, gigabytes a day, until the task's disk fills.
      out_file: '/dev/null',
      error_file: '/dev/null',
    },
  ],
};
