using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace OrleansMQ.Silo.Dashboard;

/// <summary>
/// Guards the console pages and the HTTP API when the silo has a users file: no or wrong credentials get 401 with a
/// Basic challenge (the browser asks for a login), a read-only user gets 403 for anything but GET and HEAD. The
/// health probes and /metrics stay open, as an orchestrator or a scraper has no login.
/// </summary>
internal static class ConsoleAuthentication
{
    public const string Realm = "OrleansMQ console";

    public static void Use(WebApplication app, ConsoleUsers users)
    {
        app.Use(async (http, next) =>
        {
            if (HealthEndpoints.IsProbe(http.Request.Path) || MetricsEndpoint.IsMetrics(http.Request.Path))
            {
                await next(http);
                return;
            }
            var user = users.Authenticate(http.Request.Headers.Authorization);
            if (user is null)
            {
                http.Response.Headers.WWWAuthenticate = $"Basic realm=\"{Realm}\", charset=\"UTF-8\"";
                await DashboardApi.WriteAsync(http, StatusCodes.Status401Unauthorized,
                    new ApiError("Unauthorized", 0, "log in with a user of the console's users file (--console-users)"));
                return;
            }
            if (!user.IsAdmin && !HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
            {
                await DashboardApi.WriteAsync(http, StatusCodes.Status403Forbidden,
                    new ApiError("Forbidden", 0, $"user '{user.Name}' may only read; {http.Request.Method} {http.Request.Path} needs an admin (name=password,1 in the users file)"));
                return;
            }
            http.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, user.Name)], "Basic"));
            await next(http);
        });
    }
}
