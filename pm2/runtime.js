// The container's command: `node pm2/runtime.js pm2/ecosystem.config.js` is pm2-runtime, except
// that a clean drain exits 0.
//
// Why: on SIGTERM pm2-runtime asks PM2 to stop the app and exits 0 when it has, but its auto-exit
// check keeps running meanwhile; during a drain longer than ~10 s it sees "0 application
// online" three times and also exits, with status 2, and that exit usually wins. Every stopped
// task then showed exit status 2. Once a stop signal has arrived, that 2 only repeats what the
// signal asked for, so it is reported as 0. Without a stop signal (the app crashed ten times, or
// exited 2 for invalid settings) the 2 stays: the task stops and ECS sees a failure.
'use strict';

let stopRequested = false;
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.prependListener(signal, () => {
    stopRequested = true;
    // Before PM2 has installed its own handlers there is nothing to stop yet.
    if (process.listenerCount(signal) === 1) process.exit(0);
  });
}

const exit = process.exit.bind(process);
process.exit = (code) => exit(stopRequested && code === 2 ? 0 : code);

require('pm2/lib/binaries/Runtime4Docker.js');
