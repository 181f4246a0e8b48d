using System.Collections.Frozen;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace OrleansMQ.Silo.Dashboard;

/// <summary>
/// The console page: one HTML file, its script and its style sheet, embedded in the silo (wwwroot/), so there is no
/// front-end build and nothing to deploy beside the binary.
/// </summary>
internal static class DashboardPages
{
    // Everything is served from here, and the script builds the page with textContent only; the policy makes an
    // injected <script> or inline handler inert even if a bug ever let markup through.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    private static readonly FrozenDictionary<string, (string Resource, string ContentType)> Files = new Dictionary<string, (string, string)>
    {
        ["/"] = ("index.html", "text/html; charset=utf-8"),
        ["/index.html"] = ("index.html", "text/html; charset=utf-8"),
        ["/console.js"] = ("console.js", "text/javascript; charset=utf-8"),
        ["/console.css"] = ("console.css", "text/css; charset=utf-8"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static void Map(WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            var headers = http.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            await next(http);
        });
        foreach (var (path, (resource, contentType)) in Files)
        {
            var bytes = Read(resource);
            app.MapGet(path, async http =>
            {
                http.Response.ContentType = contentType;
                http.Response.Headers.CacheControl = "no-cache";
                await http.Response.Body.WriteAsync(bytes, http.RequestAborted);
            });
        }
    }

    private static byte[] Read(string file)
    {
        var name = $"OrleansMQ.Dashboard.{file}";
        using var stream = typeof(DashboardPages).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"the console file {name} is not embedded in the silo; check OrleansMQ.Silo.csproj");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
