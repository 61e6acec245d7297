using System.Globalization;
using System.Net;

namespace RingKv.Coordinator.Consensus;

/// <summary>
/// One member of a coordinator group: its id, the URL its cluster API answers on, and the port of
/// its Raft transport on the same host. Written <c>c1=http://10.0.0.1:7000@7100</c>.
/// </summary>
public sealed record CoordinatorPeer(string Id, Uri Url, int RaftPort)
{
    public IPEndPoint RaftEndPoint => new(IPAddress.Parse(Url.Host.Trim('[', ']')), RaftPort);

    public override string ToString() => $"{Id}={Url.GetLeftPart(UriPartial.Authority)}@{RaftPort.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Parses <c>c1=http://10.0.0.1:7000@7100,c2=...</c>; the hosts must be IP addresses (Raft identifies members by address).</summary>
    public static IReadOnlyList<CoordinatorPeer> ParseList(string text)
    {
        var peers = new List<CoordinatorPeer>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var at = part.LastIndexOf('@');
            if (equals <= 0 || at < equals ||
                !Uri.TryCreate(part[(equals + 1)..at], UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") ||
                !IPAddress.TryParse(url.Host.Trim('[', ']'), out _) ||
                !int.TryParse(part[(at + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var raftPort) || raftPort is < 1 or > 65535)
            {
                throw new ArgumentException($"'{part}' is not a coordinator member: write ID=http://IP:PORT@RAFTPORT, for example c1=http://127.0.0.1:7101@7201.");
            }
            var id = part[..equals];
            if (peers.Any(p => p.Id == id))
            {
                throw new ArgumentException($"Coordinator member {id} is listed twice.");
            }
            peers.Add(new CoordinatorPeer(id, new Uri(url.GetLeftPart(UriPartial.Authority) + "/"), raftPort));
        }
        if (peers.Count is not (1 or 3 or 5 or 7))
        {
            throw new ArgumentException($"A coordinator group has 1, 3, 5 or 7 members (a majority must survive a failure); {peers.Count} were given.");
        }
        return peers;
    }
}
