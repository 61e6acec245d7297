using System.Globalization;
using System.Text;
using RingKv.Node.Api;
using RingKv.Node.Security;

namespace RingKv.Node.Resp;

// Connection commands: what clients send on connect (HELLO, AUTH, CLIENT SETNAME, SELECT) and
// the connection's own settings, RINGKV W/R/CONSISTENCY among them.
public sealed partial class RespConnection
{
    internal ValueTask PingAsync(byte[][] a)
    {
        if (a.Length > 2)
        {
            throw new RespCommandException("ERR wrong number of arguments for 'ping' command");
        }
        if (a.Length == 2)
        {
            _writer.Bulk(a[1]);
        }
        else
        {
            _writer.SimpleString("PONG");
        }
        return ValueTask.CompletedTask;
    }

    internal ValueTask EchoAsync(byte[][] a)
    {
        _writer.Bulk(a[1]);
        return ValueTask.CompletedTask;
    }

    internal ValueTask HelloAsync(byte[][] a)
    {
        var protocol = Protocol;
        if (a.Length > 1)
        {
            if (!RespText.TryParseInteger(a[1], out var requested))
            {
                throw new RespCommandException("ERR Protocol version is not an integer or out of range");
            }
            if (requested is not (2 or 3))
            {
                throw new RespCommandException("NOPROTO unsupported protocol version");
            }
            protocol = (int)requested;
        }
        string? name = null;
        for (var i = 2; i < a.Length; i++)
        {
            if (RespText.Is(a[i], "AUTH") && i + 2 < a.Length)
            {
                if (!TryAuthenticate(Encoding.UTF8.GetString(a[i + 1]), Encoding.UTF8.GetString(a[i + 2])))
                {
                    return ValueTask.CompletedTask;
                }
                i += 2;
            }
            else if (RespText.Is(a[i], "SETNAME") && i + 1 < a.Length)
            {
                name = ValidName(a[++i]);
            }
            else
            {
                throw new RespCommandException($"ERR Syntax error in HELLO option '{RespText.Printable(a[i])}'");
            }
        }
        if (!Authenticated)
        {
            _writer.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
            return ValueTask.CompletedTask;
        }
        if (name is not null)
        {
            Name = name.Length == 0 ? null : name;
        }
        _writer.Protocol = protocol;
        _writer.MapHeader(7);
        _writer.Bulk("server");
        _writer.Bulk("redis");
        _writer.Bulk("version");
        _writer.Bulk(RespServerInfo.RedisVersion);
        _writer.Bulk("proto");
        _writer.Integer(protocol);
        _writer.Bulk("id");
        _writer.Integer(Id);
        _writer.Bulk("mode");
        _writer.Bulk("standalone");
        _writer.Bulk("role");
        _writer.Bulk("master");
        _writer.Bulk("modules");
        _writer.ArrayHeader(0);
        return ValueTask.CompletedTask;
    }

    internal ValueTask AuthAsync(byte[][] a)
    {
        if (a.Length > 3)
        {
            throw new RespCommandException("ERR syntax error");
        }
        var (user, password) = a.Length == 3 ? (Encoding.UTF8.GetString(a[1]), Encoding.UTF8.GetString(a[2])) : ("default", Encoding.UTF8.GetString(a[1]));
        if (_server.Tokens is null)
        {
            _writer.Error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct? (this node has no --auth-file)");
            return ValueTask.CompletedTask;
        }
        if (TryAuthenticate(user, password))
        {
            _writer.Ok();
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The password is a RingKV token; the user name, when given, is <c>default</c> or the
    /// token's name in the auth file. On failure the WRONGPASS error has been written.
    /// </summary>
    private bool TryAuthenticate(string user, string token)
    {
        if (_server.Tokens is null)
        {
            // No tokens configured: Redis accepts HELLO ... AUTH for the default user whatever the password.
            return true;
        }
        var identity = _server.Tokens.Identify(token);
        if (identity is null || (user != "default" && user != identity.Name))
        {
            _server.Audit.RespAuthenticationFailed(RemoteAddress, identity is null ? "unknown token" : "user name does not match the token", token.Length > 0 ? TokenStore.Fingerprint(token) : null);
            _writer.Error("WRONGPASS invalid username-password pair or user is disabled.");
            return false;
        }
        Identity = identity;
        Authenticated = true;
        return true;
    }

    internal ValueTask SelectAsync(byte[][] a)
    {
        if (!RespText.TryParseInteger(a[1], out var db))
        {
            throw new RespCommandException("ERR value is not an integer or out of range");
        }
        if (db != 0)
        {
            throw new RespCommandException("ERR DB index is out of range (RingKV has database 0 only)");
        }
        _writer.Ok();
        return ValueTask.CompletedTask;
    }

    internal ValueTask QuitAsync(byte[][] a)
    {
        _ = a;
        _writer.Ok();
        _closeAfterReply = true;
        return ValueTask.CompletedTask;
    }

    internal ValueTask ResetAsync(byte[][] a)
    {
        _ = a;
        _writer.Protocol = 2;
        Name = null;
        WriteQuorum = null;
        ReadQuorum = null;
        Identity = null;
        Authenticated = _server.Tokens is null;
        _writer.SimpleString("RESET");
        return ValueTask.CompletedTask;
    }

    internal ValueTask ClientAsync(byte[][] a)
    {
        var sub = RespText.Upper(a[1]);
        switch (sub)
        {
            case "SETNAME" when a.Length == 3:
                var name = ValidName(a[2]);
                Name = name.Length == 0 ? null : name;
                _writer.Ok();
                break;
            case "GETNAME" when a.Length == 2:
                if (Name is null)
                {
                    _writer.Null();
                }
                else
                {
                    _writer.Bulk(Name);
                }
                break;
            case "ID" when a.Length == 2:
                _writer.Integer(Id);
                break;
            case "INFO" when a.Length == 2:
                _writer.Verbatim(Describe(_server.Time.GetUtcNow(), _server.Time.GetTimestamp()) + "\n");
                break;
            case "SETINFO" when a.Length == 4:
                var attribute = RespText.Upper(a[2]);
                var value = ValidName(a[3]);
                if (attribute == "LIB-NAME")
                {
                    LibraryName = value;
                }
                else if (attribute == "LIB-VER")
                {
                    LibraryVersion = value;
                }
                else
                {
                    throw new RespCommandException($"ERR Unrecognized option '{RespText.Printable(a[2])}'");
                }
                _writer.Ok();
                break;
            case "LIST":
                if (Identity is { } identity && identity.Role < Role.Admin)
                {
                    throw new RespCommandException($"NOPERM User {identity.Name} has no permissions to run the 'client|list' command: it needs a token with the admin role");
                }
                var now = _server.Time.GetUtcNow();
                var timestamp = _server.Time.GetTimestamp();
                var text = new StringBuilder();
                foreach (var connection in _server.Connections)
                {
                    text.Append(connection.Describe(now, timestamp)).Append('\n');
                }
                _writer.Verbatim(text.ToString());
                break;
            case "NO-EVICT" or "NO-TOUCH" when a.Length == 3:
                // RingKV never evicts keys and keeps no access times: both settings hold already.
                _writer.Ok();
                break;
            case "HELP":
                var help = new[] { "CLIENT <subcommand>. Subcommands are:", "SETNAME <name>", "GETNAME", "ID", "INFO", "SETINFO LIB-NAME|LIB-VER <value>", "LIST (admin role)", "NO-EVICT ON|OFF", "NO-TOUCH ON|OFF" };
                _writer.ArrayHeader(help.Length);
                foreach (var line in help)
                {
                    _writer.SimpleString(line);
                }
                break;
            default:
                throw new RespCommandException($"ERR unknown subcommand or wrong number of arguments for '{RespText.Printable(a[1])}'. Try CLIENT HELP.");
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>One line of CLIENT LIST / CLIENT INFO, in Redis's field order for the fields that mean something here.</summary>
    public string Describe(DateTimeOffset now, long timestamp) => string.Create(CultureInfo.InvariantCulture,
        $"id={Id} addr={RemoteAddress} laddr={LocalAddress} name={Name} age={(long)(now - ConnectedAt).TotalSeconds} idle={(long)_server.Time.GetElapsedTime(LastActivityTimestamp, timestamp).TotalSeconds} flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 cmd={LastCommand} user={UserName} resp={Protocol} lib-name={LibraryName} lib-ver={LibraryVersion}");

    /// <summary>Redis's rule for client names: no spaces, newlines or other special characters.</summary>
    private static string ValidName(byte[] argument)
    {
        foreach (var b in argument)
        {
            if (b is < 0x21 or > 0x7E)
            {
                throw new RespCommandException("ERR Client names cannot contain spaces, newlines or special characters.");
            }
        }
        return Encoding.ASCII.GetString(argument);
    }

    internal ValueTask RingKvAsync(byte[][] a)
    {
        var replicationFactor = Node.Service.ReplicationFactor;
        var sub = RespText.Upper(a[1]);
        switch (sub)
        {
            case "CONSISTENCY" when a.Length == 3:
                var level = RespText.Upper(a[2]);
                int? quorum = level switch
                {
                    "ONE" => 1,
                    "QUORUM" => null,
                    "ALL" => replicationFactor,
                    _ => throw new RespCommandException("ERR RINGKV CONSISTENCY takes one, quorum or all"),
                };
                WriteQuorum = quorum;
                ReadQuorum = quorum;
                _writer.Ok();
                break;
            case "W" or "R" when a.Length == 3:
                int? count = null;
                if (!RespText.Is(a[2], "default"))
                {
                    if (!RespText.TryParseInteger(a[2], out var n) || n < 1 || n > replicationFactor)
                    {
                        throw new RespCommandException($"ERR RINGKV {sub} takes a number from 1 to the replication factor ({replicationFactor}), or default");
                    }
                    count = (int)n;
                }
                if (sub == "W")
                {
                    WriteQuorum = count;
                }
                else
                {
                    ReadQuorum = count;
                }
                _writer.Ok();
                break;
            case "SETTINGS" when a.Length == 2:
                var majority = QuorumParameters.Majority(replicationFactor);
                _writer.MapHeader(3);
                _writer.Bulk("replication-factor");
                _writer.Integer(replicationFactor);
                _writer.Bulk("w");
                _writer.Integer(WriteQuorum ?? majority);
                _writer.Bulk("r");
                _writer.Integer(ReadQuorum ?? majority);
                break;
            default:
                throw new RespCommandException("ERR unknown RINGKV subcommand. Use RINGKV CONSISTENCY one|quorum|all, RINGKV W n|default, RINGKV R n|default or RINGKV SETTINGS.");
        }
        return ValueTask.CompletedTask;
    }
}
