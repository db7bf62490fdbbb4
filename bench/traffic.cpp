#include "traffic.hpp"

#include <stdexcept>
#include <thread>
#include <utility>

namespace xconnect::bench {

double measure_mpps(const Settings& settings, const std::function<Traffic()>& start) {
    const Traffic traffic = start();
    std::this_thread::sleep_for(milliseconds(300));  // warm up
    const uint64_t before = traffic.arrived();
    const auto begin = steady_clock::now();
    std::this_thread::sleep_for(settings.measure_time());
    const uint64_t after = traffic.arrived();
    const double seconds = duration<double>(steady_clock::now() - begin).count();
    if (const std::string failure = traffic.failure(); !failure.empty()) {
        throw std::runtime_error("the traffic source stopped while measured; it printed:\n" +
                                 failure);
    }
    return static_cast<double>(after - before) / seconds / 1e6;
}

TrafficSource from_g0(const Settings& settings, Topology& topology, const Sink& sink,
                      const GeneratorSpec& generator) {
    return [&settings, &topology, &sink, generator](size_t size, bool ceiling) {
        std::shared_ptr<Sink> at_m0;
        if (ceiling) {
            at_m0 = std::make_shared<Sink>(topology.mid, "m0");
        }
        // Declared after the sink: the generator stops first.
        auto sending =
            std::make_shared<Generator>(settings.self, topology.gen, "g0", size, generator);
        const Sink* counter = ceiling ? at_m0.get() : &sink;
        return Traffic{
            std::make_shared<std::pair<std::shared_ptr<Sink>, std::shared_ptr<Generator>>>(at_m0,
                                                                                           sending),
            [counter] { return counter->packets(); }, [sending] { return sending->failure(); }};
    };
}

}  // namespace xconnect::bench
