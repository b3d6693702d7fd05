"""test_chaos.py on PostgreSQL with an external Redis: `joopang serve` killed with SIGKILL under
load and restarted at once, ten times; nothing lost or doubled. Skipped unless
JOOPANG_TEST_PG_URL is set (the CTest postgres fixture)."""

import os
import signal
import subprocess
import time
import unittest

import test_chaos
from harness import ExternalRedis, Service, create_pg_database, drop_pg_database


class CrashRestartPgTests(test_chaos.CrashRestartCases, unittest.TestCase):

    def make_service(self):
        self.pg_name, url = create_pg_database()
        # Durable like a production Redis for coupons: the AOF is written before replies, so a
        # killed redis-server keeps every acknowledged win.
        self.redis = ExternalRedis(appendonly=True).start()
        return Service(database=url, redis=self.redis.url, name="chaos-pg",
                       extra_args=("--issue-rate-limit", "1000"))

    def cleanup_service(self):
        self.svc.cleanup()
        self.redis.stop()
        drop_pg_database(self.pg_name)

    def kill_dependency(self, cycle):
        if cycle % 2 == 0:
            # A PostgreSQL backend serving the service: the postmaster then ends every backend
            # and recovers, as after a crash of PostgreSQL itself.
            out = subprocess.run(
                ["psql", self.svc.database, "-At", "-c",
                 "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                 "AND pid <> pg_backend_pid()"],
                capture_output=True, text=True, timeout=30, check=True).stdout
            pids = [int(x) for x in out.split() if x.strip().isdigit()]
            self.assertTrue(pids, "no backend of the service found")
            os.kill(pids[0], signal.SIGKILL)
            return "a PostgreSQL backend"
        # The external redis-server, then started again on its AOF (as a supervisor would).
        self.redis.proc.send_signal(signal.SIGKILL)
        self.redis.proc.wait()
        time.sleep(0.5)
        self.redis.start()
        return "redis-server"


if __name__ == "__main__":
    unittest.main()
