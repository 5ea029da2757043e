/**
 * Preloaded (`--import`) into the servers the bench starts. It changes nothing in them; it only
 * makes sure that a server never outlives a bench process that was killed too hard to clean up
 * (SIGKILL, OOM): once the parent is gone the server gets the SIGTERM a supervisor would send.
 */
const parent = process.ppid;
const watch = setInterval(() => {
  if (process.ppid !== parent) {
    clearInterval(watch);
    process.kill(process.pid, 'SIGTERM');
  }
}, 500);
watch.unref();
