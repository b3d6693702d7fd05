#pragma once
/// The operators' live page (SPEC §7): GET /dashboard and its assets, embedded in the binary at
/// build time (web/dashboard/ and uPlot from web/node_modules, with its licence), and the admin
/// endpoint it polls, GET /api/v1/admin/dashboard: this instance's metrics, the live drops, the
/// streams, the waiting room and the top of the rankings in one answer.

#include <string>
#include <vector>

#include "app/drop_monitor.hpp"
#include "app/ranking_reader.hpp"
#include "app/waiting_room.hpp"
#include "http/router.hpp"
#include "http/stream_admin.hpp"

namespace joopang::obs {
class Registry;
}

namespace joopang::http {

struct DashboardSources {
    const obs::Registry& metrics;
    const DropMonitor& drops;
    std::vector<StreamAdmin> streams;
    WaitingRoom& room;
    RankingReader& rankings;
    std::string instance;  // this process's name, shown on the page
};

void RegisterDashboardRoutes(Router& router, DashboardSources sources);

}  // namespace joopang::http
