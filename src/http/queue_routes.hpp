#pragma once
#include <string>
#include <vector>

#include "app/waiting_room.hpp"
#include "http/router.hpp"

namespace joopang::http {

/// Registers SPEC §6: joining, reading and leaving the line; the operator's read and change.
void RegisterQueueRoutes(Router& router, WaitingRoom& room);

/// Puts the routes named in `protect` ("POST /api/v1/orders", captures written `{…}`) behind
/// the waiting room: a user needs X-Queue-Token with an active token of its own (the admin
/// passes). Returns the names that match no route (the caller warns about them).
std::vector<std::string> ProtectRoutes(Router& router,
                                       const std::vector<std::string>& protect,
                                       WaitingRoom& room);

/// A completed payment (`POST /api/v1/orders/{id}/payment` answered 200) frees the paying user's
/// active token.
void ReleaseOnPayment(Router& router, WaitingRoom& room);

}  // namespace joopang::http
