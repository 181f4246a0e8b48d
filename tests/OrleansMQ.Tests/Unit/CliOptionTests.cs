using System.CommandLine;
using OrleansMQ.Cli;

namespace OrleansMQ.Tests.Unit;

/// <summary>The command tree of <c>orleansmq</c>, checked without running a command.</summary>
public sealed class CliOptionTests
{
    [Fact]
    public void No_command_uses_an_option_name_or_alias_twice_counting_the_global_options()
    {
        // A command's own option that shares an alias with a global one wins silently:
        // 'send … -g host:port' once set a message group instead of the gateway.
        var clashes = new List<string>();
        Visit(CliApp.CreateRoot(), [], "orleansmq");
        Assert.Empty(clashes);

        void Visit(Command command, IReadOnlyList<Option> inherited, string path)
        {
            var options = inherited.Concat(command.Options).ToList();
            clashes.AddRange(options
                .SelectMany(o => o.Aliases.Prepend(o.Name).Select(name => (name, option: o)))
                .GroupBy(x => x.name)
                .Where(g => g.Select(x => x.option).Distinct().Count() > 1)
                .Select(g => $"{path}: {g.Key} names {string.Join(" and ", g.Select(x => x.option.Name).Distinct())}"));
            var passedOn = inherited.Concat(command.Options.Where(o => o.Recursive)).ToList();
            foreach (var sub in command.Subcommands)
            {
                Visit(sub, passedOn, $"{path} {sub.Name}");
            }
        }
    }

    [Fact]
    public void Every_command_and_option_has_a_description()
    {
        var missing = new List<string>();
        Visit(CliApp.CreateRoot(), "orleansmq");
        Assert.Empty(missing);

        void Visit(Command command, string path)
        {
            if (string.IsNullOrWhiteSpace(command.Description)) missing.Add(path);
            missing.AddRange(command.Options.Where(o => string.IsNullOrWhiteSpace(o.Description) && o is not System.CommandLine.Help.HelpOption and not VersionOption)
                .Select(o => $"{path} {o.Name}"));
            foreach (var sub in command.Subcommands) Visit(sub, $"{path} {sub.Name}");
        }
    }
}
