using System.CommandLine;

namespace RingKv.Cli.Commands;

/// <summary><c>--tls-cert</c>, <c>--tls-key</c> and <c>--tls-ca</c>, shared by <c>node</c>, <c>coordinator</c> and <c>up</c>.</summary>
public sealed class TlsOptionSet(string certificateDescription)
{
    public Option<string?> Certificate { get; } = new("--tls-cert") { Description = certificateDescription + " Serves https; needs --tls-key.", HelpName = "PATH" };

    public Option<string?> Key { get; } = new("--tls-key") { Description = "PEM private key of --tls-cert (keep it mode 0600).", HelpName = "PATH" };

    public Option<string?> Authority { get; } = new("--tls-ca") { Description = "PEM certificate of the cluster's authority: members' certificates must chain to it (required in a cluster with TLS).", HelpName = "PATH" };

    public void AddTo(Command command)
    {
        command.Options.Add(Certificate);
        command.Options.Add(Key);
        command.Options.Add(Authority);
    }
}
