#include "infra/redis/client.hpp"

#include "common/decimal.hpp"
#include "infra/redis/cluster_client.hpp"
#include "infra/redis/crc16.hpp"
#include "infra/redis/endpoint.hpp"
#include "infra/redis/node_client.hpp"
#include "infra/redis/resp_writer.hpp"

namespace joopang::redis {

namespace {

/// `*n`, the verb and the script's sha or source: the part of an EVALSHA/EVAL call before
/// numkeys, which differs between the two.
void AppendEvalHead(std::string& out,
                    std::size_t argc,
                    std::string_view verb,
                    std::string_view script) {
    AppendArrayHeader(out, argc);
    AppendBulk(out, verb);
    AppendBulk(out, script);
}

Awaitable<Result<Reply>> Refused(Error error) { co_return error; }

constexpr int kMixedSlots = -2;

/// The one cluster slot of `keys`, starting from `slot` (-1: none yet); kMixedSlots if they differ.
int SlotOfKeys(Client::ArgList keys, int slot = -1) {
    for (std::size_t i = 0; i < keys.size() && slot != kMixedSlots; ++i) {
        const int s = KeySlot(keys[i]);
        if (slot == -1) {
            slot = s;
        } else if (s != slot) {
            slot = kMixedSlots;
        }
    }
    return slot;
}

void AppendBulks(std::string& out, Client::ArgList list) {
    for (std::size_t i = 0; i < list.size(); ++i) AppendBulk(out, list[i]);
}

std::size_t EncodedSize(Client::ArgList list) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < list.size(); ++i) n += list[i].size() + 16;
    return n;
}

/// The EVALSHA call of `script` on `keys` and `args`, encoded.
std::string EncodeEvalSha(const Script& script, Client::ArgList keys, Client::ArgList args) {
    std::string payload;
    payload.reserve(64 + script.sha1().size() + EncodedSize(keys) + EncodedSize(args));
    AppendEvalHead(payload, 3 + keys.size() + args.size(), "EVALSHA", script.sha1());
    std::string numkeys;
    AppendDecimal(numkeys, static_cast<std::int64_t>(keys.size()));
    AppendBulk(payload, numkeys);
    AppendBulks(payload, keys);
    AppendBulks(payload, args);
    return payload;
}

/// The refusal of a script whose keys hash to different cluster slots.
Error CrossSlotScript(const Script& script) {
    return Error::Internal("redis cluster: refused script " + script.name() +
                           " before sending: its keys hash to different slots (give keys that "
                           "must go together the same {hash tag})");
}

}  // namespace

// Not a coroutine: `keys` and `args` are encoded here, before the caller's temporaries go.
Awaitable<Result<Reply>> Client::Eval(const Script& script,
                                      ArgList keys,
                                      ArgList args,
                                      CallOptions opts) {
    int slot = -1;
    if (RoutesBySlot()) {
        slot = SlotOfKeys(keys);
        if (slot == kMixedSlots) return Refused(CrossSlotScript(script));
    }
    return RunEval(script, EncodeEvalSha(script, keys, args), 3 + keys.size() + args.size(), slot,
                   opts);
}

Awaitable<Result<Client::DurableReply>> Client::EvalThenWait(const Script& script,
                                                             ArgList keys,
                                                             ArgList args,
                                                             int replicas,
                                                             std::chrono::milliseconds timeout) {
    int slot = -1;
    if (RoutesBySlot()) {
        slot = SlotOfKeys(keys);
        if (slot == kMixedSlots) co_return CrossSlotScript(script);
    }
    std::string payload = EncodeEvalSha(script, keys, args);
    const std::string wait_replicas = std::to_string(replicas);
    const std::string wait_ms = std::to_string(timeout.count());
    AppendCommand(payload, {std::string_view("WAIT"), wait_replicas, wait_ms});
    CallOptions opts;
    opts.timeout = timeout + std::chrono::milliseconds(2000);  // WAIT answers at `timeout`
    for (int attempt = 0;; ++attempt) {
        auto replies = co_await SendPipeline(payload, 2, slot, opts);
        if (!replies) co_return replies.error();
        if ((*replies)[0].IsErrorCode("NOSCRIPT") && attempt == 0) {
            Args load{"SCRIPT", "LOAD", script.source()};  // named: GCC 12 and braced temporaries
            auto loaded = co_await CommandOnSlotNode(std::move(load), slot, opts);
            if (!loaded) co_return loaded.error();
            continue;
        }
        DurableReply out;
        out.replicas = (*replies)[1].IsInteger() ? (*replies)[1].integer : 0;
        out.reply = std::move((*replies)[0]);
        co_return out;
    }
}

Awaitable<Result<Reply>> Client::RunEval(
    const Script& script, std::string payload, std::size_t argc, int slot, CallOptions opts) {
    auto reply = co_await SendEncoded(payload, slot, opts);
    if (!reply || !reply->IsErrorCode("NOSCRIPT")) co_return reply;

    // The node lost (or never had) the script: load it where the keys live and call again.
    Args load{"SCRIPT", "LOAD", script.source()};  // named: GCC 12 mishandles braced temporaries
    auto loaded = co_await CommandOnSlotNode(std::move(load), slot, opts);
    if (!loaded) co_return loaded.error();
    if (loaded->IsError()) co_return std::move(*loaded);  // e.g. a compile error
    reply = co_await SendEncoded(payload, slot, opts);
    if (!reply || !reply->IsErrorCode("NOSCRIPT")) co_return reply;

    // Flushed again in between: EVAL runs the source and caches it in one step. Only the head
    // differs from the EVALSHA call; numkeys, keys and arguments are reused as encoded.
    std::string sha_head;
    AppendEvalHead(sha_head, argc, "EVALSHA", script.sha1());
    std::string with_source;
    AppendEvalHead(with_source, argc, "EVAL", script.source());
    with_source.append(payload, sha_head.size(), std::string::npos);
    co_return co_await SendEncoded(with_source, slot, opts);
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
