using Cocona;
using Kgglm.Cli.Commands;
using Microsoft.Extensions.Logging;

// `kgglm`: train and serve KGGLM path language models. Every command lives in Commands/.
var builder = CoconaApp.CreateBuilder(
    args,
    options =>
    {
        options.EnableShellCompletionSupport = false;
        options.TreatPublicMethodsAsCommands = true;
    });
builder.Logging.ClearProviders();
var app = builder.Build();
app.AddCommands<InfoCommand>();
app.AddCommands<TrainCommands>();
app.AddCommands<ServeCommands>();
app.Run();

// Cocona answers --help with exit code 129; asking for help is not a failure.
if (Environment.ExitCode == 129 && args.Any(a => a is "--help" or "-h"))
{
    Environment.ExitCode = 0;
}
