// xconnect-loss-meter: the loss meter as a command, for tests that drive a
// system from a shell (the VM tier, under a real systemd): numbered frames
// from SENDER_IF to RECEIVER_IF, each moved into a namespace of its own for
// the run and back into the init namespace after it, so the interfaces
// they pair with stay.
//
// usage: xconnect-loss-meter SENDER_IF RECEIVER_IF [FRAMES_PER_SECOND]
// Prints "flowing" once frames arrive, then sends until its standard input
// ends (a line "stop", or EOF); prints the report and exits 0 when no frame
// was lost, 1 when any was, 2 on a usage or setup error.
#include <iostream>
#include <stdexcept>
#include <string>

#include "loss_meter.hpp"
#include "netns.hpp"

namespace {

using xconnect::test::Netns;
using xconnect::test::sh;
using xconnect::test::sh_status;

// An interface of the init namespace lent to `netns` with `address`, and
// given back (without it) when this ends.
class LentInterface {
  public:
    LentInterface(const std::string& ifname, const Netns& netns, const std::string& address)
        : ifname_(ifname), netns_(netns) {
        sh("ip link set " + ifname + " netns " + netns.name());
        sh(netns.ip() + "addr add " + address + "/24 dev " + ifname);
        sh(netns.ip() + "link set " + ifname + " up");
    }
    ~LentInterface() {
        sh_status(netns_.ip() + "addr flush dev " + ifname_);
        sh_status(netns_.ip() + "link set " + ifname_ + " netns 1");
    }
    LentInterface(const LentInterface&) = delete;
    LentInterface& operator=(const LentInterface&) = delete;

  private:
    std::string ifname_;
    const Netns& netns_;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3 || argc > 4) {
        std::cerr << "usage: xconnect-loss-meter SENDER_IF RECEIVER_IF [FRAMES_PER_SECOND]\n";
        return 2;
    }
    try {
        const std::string sender_if = argv[1];
        const std::string receiver_if = argv[2];
        const unsigned rate = argc == 4 ? static_cast<unsigned>(std::stoul(argv[3])) : 5000;
        const Netns sender("lm-s");
        const Netns receiver("lm-r");
        const LentInterface sending(sender_if, sender, "169.254.77.1");
        const LentInterface receiving(receiver_if, receiver, "169.254.77.2");
        xconnect::test::LossMeter meter(sender, sender_if, "169.254.77.1", receiver, receiver_if,
                                        "169.254.77.2", rate);
        meter.wait_until_flowing();
        std::cout << "flowing" << std::endl;
        for (std::string line; std::getline(std::cin, line) && line != "stop";) {
        }
        const xconnect::test::LossReport report = meter.stop();
        std::cout << report.summary() << std::endl;
        return report.missing.empty() ? 0 : 1;
    } catch (const std::exception& error) {
        std::cerr << "xconnect-loss-meter: " << error.what() << "\n";
        return 2;
    }
}
