using System.Text;
using OrleansMQ.Silo;
using OrleansMQ.Silo.Dashboard;

namespace OrleansMQ.Tests.Unit;

public sealed class ConsoleUsersTests
{
    private static readonly ConsoleUsers Users = ConsoleUsers.Parse(
        ["# users.properties, as rocketmq-dashboard's", "", "admin = adm1n,1", "reader=r,0", "guest=g"], "users.properties");

    [Fact]
    public void A_file_in_rocketmq_dashboards_format_gives_admins_and_read_only_users()
    {
        Assert.Equal(3, Users.Count);
        Assert.Equal(new ConsoleUser("admin", IsAdmin: true), Users.Authenticate(Basic("admin:adm1n")));
        Assert.Equal(new ConsoleUser("reader", IsAdmin: false), Users.Authenticate(Basic("reader:r")));
        Assert.Equal(new ConsoleUser("guest", IsAdmin: false), Users.Authenticate(Basic("guest:g")));
    }

    [Fact]
    public void Only_the_last_comma_separates_a_role_so_a_password_may_hold_commas_and_equals_signs_when_a_role_follows()
    {
        var users = ConsoleUsers.Parse(["viewer=pa=ss,word,0"], "f");

        Assert.Equal(new ConsoleUser("viewer", IsAdmin: false), users.Authenticate(Basic("viewer:pa=ss,word")));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer abc")]
    [InlineData("Basic not-base64!")]
    [InlineData("Basic YWRtaW4=")] // "admin", no colon
    public void A_missing_or_malformed_header_proves_nobody(string? header) => Assert.Null(Users.Authenticate(header));

    [Theory]
    [InlineData("admin:wrong")]
    [InlineData("admin:adm1n ")]
    [InlineData("nobody:adm1n")]
    [InlineData("Admin:adm1n")]
    public void A_wrong_name_or_password_proves_nobody(string credentials) => Assert.Null(Users.Authenticate(Basic(credentials)));

    [Theory]
    [InlineData("just-a-name", "line 1 is not name=password")]
    [InlineData("=secret", "line 1 is not name=password")]
    [InlineData("ops=", "line 1 gives user 'ops' an empty password")]
    [InlineData("ops=s,2", "line 1 ends with ',2'")]
    [InlineData("o ps=s", "line 1 names user 'o ps'")]
    public void A_line_that_is_not_a_user_is_refused_with_its_number(string line, string expected)
    {
        var e = Assert.Throws<SiloSettingsException>(() => ConsoleUsers.Parse([line], "users.properties"));

        Assert.Contains(expected, e.Message);
        Assert.Contains("users.properties", e.Message);
    }

    [Fact]
    public void A_user_defined_twice_or_a_file_without_users_is_refused()
    {
        var twice = Assert.Throws<SiloSettingsException>(() => ConsoleUsers.Parse(["a=1", "# x", "a=2"], "f"));
        var none = Assert.Throws<SiloSettingsException>(() => ConsoleUsers.Parse(["# only a comment"], "f"));
        var missing = Assert.Throws<SiloSettingsException>(() => ConsoleUsers.Load("/nonexistent/users.properties"));

        Assert.Contains("line 3 defines user 'a' a second time", twice.Message);
        Assert.Contains("defines no user", none.Message);
        Assert.Contains("cannot read the console users file", missing.Message);
    }

    private static string Basic(string credentials) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials));
}
