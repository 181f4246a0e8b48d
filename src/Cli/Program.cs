using System.CommandLine;
using OrleansMQ.Cli;
using OrleansMQ.Cli.Common;

// The entry point of `orleansmq`; the commands are built in CliApp.
var root = CliApp.CreateRoot();
var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    return CliErrors.ReportParseErrors(parse.Errors.Select(e => e.Message), CommandPath(parse));
}
return await parse.InvokeAsync(new InvocationConfiguration
{
    // Commands print their own error line; the default handler would print a stack trace.
    EnableDefaultExceptionHandler = false,
    // Ctrl-C cancels the command's token; consume and the benches then commit or report before exiting.
    ProcessTerminationTimeout = TimeSpan.FromSeconds(30),
});

static string CommandPath(ParseResult parse)
{
    var names = new List<string>();
    for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
    {
        names.Add(result.Command is RootCommand ? "orleansmq" : result.Command.Name);
    }
    names.Reverse();
    return string.Join(' ', names);
}
