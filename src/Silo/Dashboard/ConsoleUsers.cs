using System.Security.Cryptography;
using System.Text;

namespace OrleansMQ.Silo.Dashboard;

/// <summary>One console login: read-only, or an admin who may also change things (create, delete, send, reset, resend, resolve).</summary>
public sealed record ConsoleUser(string Name, bool IsAdmin);

/// <summary>
/// The console's users, from a file in rocketmq-dashboard's <c>users.properties</c> format: one <c>name=password</c> per
/// line, <c>name=password,1</c> for an admin, <c>#</c> comments and blank lines ignored. Checked with HTTP Basic
/// authentication, so a browser asks for them and <c>curl -u name:password</c> sends them.
/// </summary>
public sealed class ConsoleUsers
{
    private readonly Dictionary<string, (byte[] Password, ConsoleUser User)> _users;

    private ConsoleUsers(Dictionary<string, (byte[] Password, ConsoleUser User)> users) => _users = users;

    /// <summary>How many users the file defines.</summary>
    public int Count => _users.Count;

    /// <summary>Reads a users file; a file that cannot be read or a line that is not a user stops the silo with the line's number.</summary>
    public static ConsoleUsers Load(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new SiloSettingsException($"cannot read the console users file '{path}' (--console-users): {e.Message}");
        }
        return Parse(lines, path);
    }

    /// <summary>Parses the lines of a users file; <paramref name="source"/> names it in errors.</summary>
    public static ConsoleUsers Parse(IEnumerable<string> lines, string source)
    {
        var users = new Dictionary<string, (byte[], ConsoleUser)>(StringComparer.Ordinal);
        var number = 0;
        foreach (var raw in lines)
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw Bad(source, number, "is not name=password or name=password,1");
            }
            var name = line[..equals].Trim();
            var value = line[(equals + 1)..];
            var isAdmin = false;
            var comma = value.LastIndexOf(',');
            if (comma >= 0)
            {
                var role = value[(comma + 1)..].Trim();
                if (role is not ("0" or "1"))
                {
                    throw Bad(source, number, $"ends with ',{role}'; the role after the comma is 1 (admin) or 0 (read-only)");
                }
                isAdmin = role == "1";
                value = value[..comma];
            }
            var password = value.Trim();
            if (name.Any(c => char.IsWhiteSpace(c) || c == ':'))
            {
                throw Bad(source, number, $"names user '{name}'; a user name has no spaces and no ':' (HTTP Basic authentication)");
            }
            if (password.Length == 0)
            {
                throw Bad(source, number, $"gives user '{name}' an empty password");
            }
            if (!users.TryAdd(name, (Encoding.UTF8.GetBytes(password), new ConsoleUser(name, isAdmin))))
            {
                throw Bad(source, number, $"defines user '{name}' a second time");
            }
        }
        if (users.Count == 0)
        {
            throw new SiloSettingsException($"the console users file '{source}' (--console-users) defines no user; a line is name=password or name=password,1 for an admin");
        }
        return new ConsoleUsers(users);
    }

    /// <summary>The user an <c>Authorization: Basic …</c> header proves, or null (no header, another scheme, a wrong name or password).</summary>
    public ConsoleUser? Authenticate(string? authorization)
    {
        const string Scheme = "Basic ";
        if (authorization is null || !authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase)) return null;
        string credentials;
        try
        {
            credentials = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[Scheme.Length..].Trim()));
        }
        catch (FormatException)
        {
            return null;
        }
        var colon = credentials.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !_users.TryGetValue(credentials[..colon], out var entry)) return null;
        var given = Encoding.UTF8.GetBytes(credentials[(colon + 1)..]);
        return CryptographicOperations.FixedTimeEquals(given, entry.Password) ? entry.User : null;
    }

    private static SiloSettingsException Bad(string source, int line, string what) =>
        new($"console users file '{source}' line {line} {what} (--console-users)");
}
