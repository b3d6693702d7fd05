#include "http/system_routes.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "http/handler_support.hpp"
#include "observability/metrics.hpp"

namespace joopang::http {
using boost::asio::awaitable;
namespace json = boost::json;

namespace {

json::value OpenApi(const Router& router) {
    json::object paths;
    for (const auto& r : router.routes()) {
        std::string method = r->method;
        for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        json::object op;
        op["summary"] = r->options.summary;
        json::array params;
        for (const auto& seg : r->segments) {
            if (seg.size() > 2 && seg.front() == '{') {
                params.push_back({{"name", seg.substr(1, seg.size() - 2)},
                                  {"in", "path"},
                                  {"required", true},
                                  {"schema", {{"type", "integer"}, {"format", "int64"}}}});
            }
        }
        if (r->options.idempotent) {
            params.push_back({{"name", "Idempotency-Key"},
                              {"in", "header"},
                              {"required", false},
                              {"schema", {{"type", "string"}}}});
        }
        if (!params.empty()) op["parameters"] = std::move(params);
        if (r->options.access == Access::kAdmin)
            op["security"] = json::array{json::object{{"adminToken", json::array{}}}};
        if (r->options.access == Access::kUser)
            op["security"] = json::array{json::object{{"accessToken", json::array{}}},
                                         json::object{{"adminToken", json::array{}}}};
        if (method == "post" || method == "put" || method == "patch") {
            op["requestBody"] = {
                {"required", true},
                {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
        }
        op["responses"] = {
            {"2XX", {{"description", "success"}}},
            {"default",
             {{"description", "error"},
              {"content",
               {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}}}};
        auto& path_item = paths[r->pattern];
        if (!path_item.is_object()) path_item = json::object{};
        path_item.as_object()[method] = std::move(op);
    }
    json::object error_schema = {{"type", "object"},
                                 {"required", json::array{"code", "message", "timestamp", "path"}},
                                 {"properties",
                                  {{"code", {{"type", "string"}}},
                                   {"message", {{"type", "string"}}},
                                   {"timestamp", {{"type", "string"}, {"format", "date-time"}}},
                                   {"path", {{"type", "string"}}},
                                   {"field", {{"type", "string"}}}}}};
    return {
        {"openapi", "3.0.3"},
        {"info", {{"title", "joopang"}, {"version", "0.1.0"}}},
        {"paths", std::move(paths)},
        {"components",
         {{"schemas", {{"Error", std::move(error_schema)}}},
          {"securitySchemes",
           {{"adminToken", {{"type", "http"}, {"scheme", "bearer"}}},
            {"accessToken", {{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"}}}}}}}};
}

}  // namespace

void RegisterSystemRoutes(Router& router, ReadinessProbes probes, obs::Registry& metrics) {
    router.Add("GET", "/healthz",
               [](RequestContext&) -> awaitable<HttpResponse> {
                   co_return JsonResponse(200, {{"status", "UP"}});
               },
               {.summary = "Process is up"});

    router.Add("GET", "/readyz",
               [probes](RequestContext& ctx) -> awaitable<HttpResponse> {
                   Status db = co_await ctx.Db([&] { return probes.database(); });
                   // (Not `cond ? co_await … : …`: GCC 12 mis-handles co_await inside a conditional
                   // expression and frees the result early.)
                   Status redis;
                   if (probes.redis) redis = co_await probes.redis();
                   auto describe = [](const Status& s) {
                       return s ? json::value("UP") : json::value(s.error().message);
                   };
                   if (db && redis)
                       co_return JsonResponse(
                           200, {{"status", "READY"}, {"database", "UP"}, {"redis", "UP"}});
                   HttpResponse res = ErrorResponse(
                       Error::Unavailable(std::string("not ready:") + (db ? "" : " database") +
                                          (redis ? "" : " redis")),
                       ctx.path());
                   auto body = json::parse(res.body).as_object();
                   body["database"] = describe(db);
                   body["redis"] = describe(redis);
                   res.body = json::serialize(body);
                   co_return res;
               },
               {.summary = "Redis and the database are reachable"});

    router.Add("GET", "/metrics",
               [&metrics](RequestContext&) -> awaitable<HttpResponse> {
                   HttpResponse r;
                   r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                   r.body = metrics.RenderPrometheus();
                   co_return r;
               },
               {.summary = "Prometheus metrics"});

    router.Add("GET", "/openapi.json",
               [&router](RequestContext&) -> awaitable<HttpResponse> {
                   co_return JsonResponse(200, OpenApi(router));
               },
               {.summary = "This API description"});
}

}  // namespace joopang::http
