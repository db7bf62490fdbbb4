#include "rates.hpp"

#include <iomanip>
#include <sstream>

namespace xconnect::bench {

const Rate* find_rate(const std::vector<Rate>& rates, const std::string& group,
                      const std::string& method, size_t size) {
    for (const Rate& rate : rates) {
        if (rate.group == group && rate.method == method && rate.size == size) {
            return &rate;
        }
    }
    return nullptr;
}

bool generator_bound(const std::vector<Rate>& rates, const Rate& rate) {
    const Rate* ceiling = find_rate(rates, rate.group, "ceiling", rate.size);
    return ceiling && ceiling != &rate && rate.median() > 0 &&
           ceiling->median() < generator_bound_margin * rate.median();
}

std::string versus(const std::vector<Rate>& rates, const Rate& rate, const std::string& method) {
    const Rate* base = find_rate(rates, rate.group, method, rate.size);
    if (!base || base == &rate || !(base->median() > 0)) {
        return "";
    }
    if (generator_bound(rates, rate) || generator_bound(rates, *base)) {
        return "–";
    }
    return two_places(rate.median() / base->median()) + "x";
}

std::string two_places(double value) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(2) << value;
    return out.str();
}

}  // namespace xconnect::bench
