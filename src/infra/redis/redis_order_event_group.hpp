#pragma once
/// The ranking updater's side of the order-event stream: a consumer group ("rankings") on the
/// stream the outbox relay appends to, with entries decoded into RankingEvents (an entry that is
/// not an order event the rankings understand is malformed: dead-lettered at once).

#include <memory>
#include <string>

#include "app/ports/stream_group.hpp"
#include "app/ranking_event.hpp"
#include "infra/redis/client.hpp"

namespace joopang::redis {

using OrderEventGroup = StreamGroup<RankingEvent, RankingApplied>;

std::unique_ptr<OrderEventGroup> MakeOrderEventGroup(std::shared_ptr<Client> client,
                                                     std::string stream,
                                                     std::string group = "rankings");

}  // namespace joopang::redis
