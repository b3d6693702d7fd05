#include "infra/redis/client.hpp"

#include "infra/redis/cluster_client.hpp"
#include "infra/redis/endpoint.hpp"
#include "infra/redis/node_client.hpp"

namespace joopang::redis {

namespace {
Args EvalArgs(std::string_view verb,
              const std::string& body,
              const std::vector<std::string>& keys,
              const std::vector<std::string>& args) {
    Args out;
    out.reserve(3 + keys.size() + args.size());
    out.emplace_back(verb);
    out.push_back(body);
    out.push_back(std::to_string(keys.size()));
    out.insert(out.end(), keys.begin(), keys.end());
    out.insert(out.end(), args.begin(), args.end());
    return out;
}
}  // namespace

Awaitable<Result<Reply>> Client::Eval(const Script& script,
                                      std::vector<std::string> keys,
                                      std::vector<std::string> args,
                                      CallOptions opts) {
    auto reply = co_await Command(EvalArgs("EVALSHA", script.sha1(), keys, args), opts);
    if (!reply || !reply->IsErrorCode("NOSCRIPT")) co_return reply;

    // The node lost (or never had) the script: load it where the keys live and call again.
    Args load{"SCRIPT", "LOAD", script.source()};  // named: GCC 12 mishandles braced temporaries
    std::string route_key = keys.empty() ? std::string() : keys.front();
    auto loaded = co_await CommandOnKeyNode(std::move(load), std::move(route_key), opts);
    if (!loaded) co_return loaded.error();
    if (loaded->IsError()) co_return std::move(*loaded);  // e.g. a compile error
    reply = co_await Command(EvalArgs("EVALSHA", script.sha1(), keys, args), opts);
    if (!reply || !reply->IsErrorCode("NOSCRIPT")) co_return reply;

    // Flushed again in between: EVAL runs the source and caches it in one step.
    co_return co_await Command(EvalArgs("EVAL", script.source(), keys, args), opts);
}

Awaitable<Result<std::shared_ptr<Client>>> Connect(boost::asio::any_io_executor executor,
                                                   ClientOptions options) {
    auto url = ParseRedisUrl(options.url);
    if (!url) co_return url.error();
    if (url->cluster) {
        auto client = std::make_shared<ClusterClient>(executor, options, url->endpoints);
        if (!options.wait_connected) {
            client->StartInit();
            co_return std::shared_ptr<Client>(client);
        }
        Status st = co_await client->Init();
        if (!st) {
            client->Close();
            co_return st.error();
        }
        co_return std::shared_ptr<Client>(client);
    }
    auto client = std::make_shared<NodeClient>(executor, options, url->endpoints.front());
    if (options.wait_connected) {
        Status st = co_await client->WaitConnected();
        if (!st) {
            client->Close();
            co_return st.error();
        }
    }
    co_return std::shared_ptr<Client>(client);
}

Awaitable<Result<std::shared_ptr<Client>>> Connect(boost::asio::any_io_executor executor,
                                                   std::string url) {
    ClientOptions options;
    options.url = std::move(url);
    co_return co_await Connect(std::move(executor), std::move(options));
}

}  // namespace joopang::redis
