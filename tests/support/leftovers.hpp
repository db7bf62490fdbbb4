#pragma once

// What an earlier test run that was killed (SIGKILL, a timeout) left behind:
// its network namespaces, users and groups, polkit rules and the action file
// it installed, temporary directories, and xconnectd processes started for
// it. Each carries unique_suffix(), which begins with the pid of the test
// process that made it; an object whose process is gone is removed. Nothing
// without that marker is touched (the real org.xconnect.policy goes only
// with the marker file of the run that installed it).

namespace xconnect::test {

// Sweeps now.
void sweep_leftovers();
// Sweeps once per test process: what privileged fixtures call.
void sweep_leftovers_once();

}  // namespace xconnect::test
