using System.CommandLine;
using RingKv.Node.Hosting;

namespace RingKv.Cli.Commands;

/// <summary>The Kestrel limits an operator may lower (<c>node</c>, <c>coordinator</c>, <c>up</c>); defaults from <see cref="ServerLimits"/>.</summary>
public sealed class LimitOptionSet
{
    private static readonly ServerLimits Defaults = new();

    public Option<int> MaxConnections { get; } = new("--max-connections") { Description = "Concurrent connections per listener; more are refused.", DefaultValueFactory = _ => Defaults.MaxConnections, HelpName = "N" };

    public Option<double> RequestHeadersTimeout { get; } = new("--request-headers-timeout") { Description = "Seconds a client may take to send its request headers (at least 2).", DefaultValueFactory = _ => Defaults.RequestHeadersTimeout.TotalSeconds, HelpName = "SECONDS" };

    public Option<double> KeepAliveTimeout { get; } = new("--keep-alive-timeout") { Description = "Seconds an idle connection stays open (at least 2).", DefaultValueFactory = _ => Defaults.KeepAliveTimeout.TotalSeconds, HelpName = "SECONDS" };

    public Option<double> MinBodyRateGrace { get; } = new("--min-body-rate-grace") { Description = $"Seconds before a request body slower than {Defaults.MinBodyBytesPerSecond} bytes/s is cut off with 408 (at least 2).", DefaultValueFactory = _ => Defaults.MinBodyRateGracePeriod.TotalSeconds, HelpName = "SECONDS" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { MaxConnections, RequestHeadersTimeout, KeepAliveTimeout, MinBodyRateGrace })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>Sets the limits given on the command line; the others keep their value (a configuration file's, or the default).</summary>
    public void Apply(ParseResult parseResult, ServerLimits limits)
    {
        parseResult.IfGiven(MaxConnections, v => limits.MaxConnections = v);
        parseResult.IfGiven(RequestHeadersTimeout, v => limits.RequestHeadersTimeout = TimeSpan.FromSeconds(v));
        parseResult.IfGiven(KeepAliveTimeout, v => limits.KeepAliveTimeout = TimeSpan.FromSeconds(v));
        parseResult.IfGiven(MinBodyRateGrace, v => limits.MinBodyRateGracePeriod = TimeSpan.FromSeconds(v));
    }
}
