#include "joopang_bench_setup.hpp"

#include <boost/beast/http/verb.hpp>
#include <boost/json/serialize.hpp>
#include <cinttypes>
#include <cstdio>

namespace joopang::bench {
namespace json = boost::json;
namespace bhttp = boost::beast::http;
using boost::asio::awaitable;

std::string RunTag() {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count());
}

bool HasAdminToken(const Env& env, const char* scenario) {
    if (!env.opt.admin_token.empty()) return true;
    std::fprintf(stderr,
                 "%s needs the admin token (to create products): --admin-token, "
                 "$JOOPANG_ADMIN_TOKEN or --data-dir with an admin-token file\n",
                 scenario);
    return false;
}

std::string Describe(const HttpResult& r) {
    if (r.status == 0) return r.ErrorText();
    std::string body = r.body.size() > 300 ? r.body.substr(0, 300) + "..." : r.body;
    return "HTTP " + std::to_string(r.status) + " " + body;
}

awaitable<std::optional<std::int64_t>> CreateCategory(Env& env, std::string name) {
    json::object body{{"name", std::move(name)}};
    auto r =
        co_await env.Call(bhttp::verb::post, "/api/v1/categories", json::serialize(body), true);
    std::optional<std::int64_t> id;
    if (r.status == 201)
        if (auto v = ParseJson(r.body)) id = JsonInt(*v, "id");
    if (!id) std::fprintf(stderr, "setup failed: category: %s\n", Describe(r).c_str());
    co_return id;
}

awaitable<std::optional<std::vector<BenchProduct>>> CreateProducts(Env& env,
                                                                   int n,
                                                                   std::string price,
                                                                   std::int64_t stock,
                                                                   std::int64_t category_id,
                                                                   std::string run,
                                                                   int connections) {
    std::vector<BenchProduct> products(static_cast<std::size_t>(n));
    std::string first_error;
    std::atomic<std::uint64_t> failures{0};
    LoadSpec spec;
    spec.phase = "setup products";
    spec.steps = {"create product"};
    spec.iterations = products.size();
    spec.connections = connections;
    spec.progress = products.size() > 2000;
    co_await RunLoad(env, spec, [&](Worker& w, std::uint64_t i) -> awaitable<void> {
        std::string code = "BENCH-" + run + "-" + std::to_string(i);
        json::object body{{"name", "bench product " + std::to_string(i)},
                          {"code", code},
                          {"description", "created by joopang-bench"},
                          {"price", price},
                          {"items", json::array{json::object{{"name", "default"},
                                                             {"code", code + "-1"},
                                                             {"unitPrice", price},
                                                             {"stock", stock}}}}};
        if (category_id != 0) body["categoryId"] = category_id;
        auto res = co_await w.Send(0, bhttp::verb::post, "/api/v1/products", json::serialize(body),
                                   env.opt.admin_token);
        std::optional<json::value> v;
        if (res.status == 201) v = ParseJson(res.body);
        const json::value* items = nullptr;
        if (v && v->is_object()) items = v->get_object().if_contains("items");
        if (v && items && items->is_array() && !items->get_array().empty()) {
            products[i].id = JsonInt(*v, "id").value_or(0);
            products[i].item_id = JsonInt(items->get_array()[0], "id").value_or(0);
        }
        if ((products[i].id == 0 || products[i].item_id == 0) && failures.fetch_add(1) == 0)
            first_error = Describe(res);
    });
    if (failures > 0) {
        std::fprintf(stderr, "setup failed (%" PRIu64 " products): first error: %s\n",
                     failures.load(), first_error.c_str());
        co_return std::nullopt;
    }
    co_return products;
}

awaitable<std::optional<BenchUsers>> CreateUsers(
    Env& env, int n, std::string balance, std::string run, int connections) {
    BenchUsers users;
    users.ids.resize(static_cast<std::size_t>(n));
    users.tokens.resize(users.ids.size());
    std::string first_error;
    std::atomic<std::uint64_t> failures{0};
    LoadSpec spec;
    spec.phase = "setup users";
    spec.steps = {"create user"};
    spec.iterations = users.ids.size();
    spec.connections = connections;
    spec.progress = users.ids.size() > 2000;
    co_await RunLoad(env, spec, [&](Worker& w, std::uint64_t i) -> awaitable<void> {
        json::object body{{"email", "bench-" + run + "-" + std::to_string(i) + "@example.com"},
                          {"password", "bench-password-1"},
                          {"firstName", "Bench"},
                          {"lastName", "User" + std::to_string(i)},
                          {"balance", balance}};
        auto res = co_await w.Send(0, bhttp::verb::post, "/api/v1/users", json::serialize(body));
        auto& id = users.ids[i];
        if (res.status == 201)
            if (auto v = ParseJson(res.body)) id = JsonInt(*v, "id").value_or(0);
        if (id != 0) {
            // Signed in the way support or a load test does: a token minted by the admin.
            res = co_await w.Send(0, bhttp::verb::post,
                                  "/api/v1/admin/users/" + std::to_string(id) + "/tokens", {},
                                  env.opt.admin_token);
            if (res.status == 201)
                if (auto v = ParseJson(res.body))
                    users.tokens[i] = JsonString(*v, "accessToken").value_or("");
        }
        if ((id == 0 || users.tokens[i].empty()) && failures.fetch_add(1) == 0)
            first_error = Describe(res);
    });
    if (failures > 0) {
        std::fprintf(stderr, "setup failed (%" PRIu64 " users): first error: %s\n", failures.load(),
                     first_error.c_str());
        co_return std::nullopt;
    }
    co_return users;
}

}  // namespace joopang::bench
