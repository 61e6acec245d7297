using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using RingKv.Core.Keys;
using RingKv.Core.Versioning;
using RingKv.Node.AntiEntropy;
using RingKv.Node.Api;
using RingKv.Node.Api.OpenApi;
using RingKv.Node.Backup;
using RingKv.Node.Data;
using RingKv.Node.Internode;
using RingKv.Node.Internode.Grpc;
using RingKv.Node.Membership;
using RingKv.Node.Observability;
using RingKv.Node.Replication;
using RingKv.Node.Resp;
using RingKv.Node.Security;
using RingKv.Node.Security.Tls;
using RingKv.Node.Tombstones;
using RingKv.Storage;
using RingKv.Storage.Hints;
using RingKv.Storage.Memory;
using RingKv.Storage.RocksDb;

namespace RingKv.Node.Hosting;

/// <summary>
/// Builds a storage node: Kestrel, the v1 API, the engine and, with <c>--join</c>, the internode
/// gRPC listener, membership and the request coordinator. The ringkv executable runs it.
/// </summary>
public static class NodeHost
{
    /// <summary>gRPC's length prefix before each message: a compressed flag and a 4-byte length.</summary>
    private const int GrpcMessagePrefixBytes = 5;

    /// <summary>Builds the node's web application. Run it with <c>RunAsync</c>; its URLs are known once started.</summary>
    public static WebApplication Build(NodeOptions options, string[]? args = null)
    {
        options.Validate();
        var bind = ParseBindAddress(options.BindAddress, options.AuthFile is not null);
        var tokens = options.AuthFile is { } authFile ? TokenStore.Load(authFile) : null;
        var secret = ClusterSecret.From(options.ClusterSecretFile);
        var tls = ClusterTls.Load(options.TlsCertificateFile, options.TlsKeyFile, options.TlsAuthorityFile);
        var builder = WebApplication.CreateSlimBuilder(args ?? []);
        ConfigureLogging(builder.Logging);
        var endpoints = new NodeEndpoints { Scheme = tls.Scheme, AdvertiseHost = options.AdvertiseHost };
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            options.Limits.Apply(kestrel.Limits, options.MaxValueBytes);
            kestrel.AddServerHeader = false;
            kestrel.Listen(bind, options.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                if (tls.IsEnabled)
                {
                    tls.Listen(listen, ClientCertificateMode.NoCertificate);
                }
                endpoints.Client = listen;
            });
            if (options.RespEnabled)
            {
                // Redis clients: the same bind rules and certificate as the client port.
                kestrel.Listen(bind, options.RespPort, listen =>
                {
                    if (tls.IsEnabled)
                    {
                        tls.Listen(listen, ClientCertificateMode.NoCertificate);
                    }
                    listen.UseConnectionHandler<RespConnectionHandler>();
                    endpoints.Resp = listen;
                });
            }
            if (options.IsClustered)
            {
                // Internode traffic is gRPC: HTTP/2 only, on its own port, apart from clients.
                kestrel.Listen(bind, options.InternodePort, listen =>
                {
                    listen.Protocols = HttpProtocols.Http2;
                    if (tls.IsEnabled)
                    {
                        // Mutual TLS (ALPN picks h2): only a certificate from the cluster's authority
                        // gets a connection, on top of the cluster secret each call carries.
                        tls.Listen(listen, ClientCertificateMode.RequireCertificate);
                    }
                    endpoints.Internode = listen;
                });
            }
        });

        // Every wall-clock reading of the node goes through this provider, so an injected offset
        // skews versions, expiry and tombstone ages together, as a wrong machine clock would.
        var time = ShiftedTimeProvider.For(options.ClockOffset);
        var diskGuard = options.Engine == "rocksdb"
            ? new FreeSpaceGuard(Path.GetFullPath(options.DataDirectory), options.MinFreeDiskBytes, TimeProvider.System)
            : null;
        var engine = OpenEngine(options, time, diskGuard);
        var hintStore = options.IsClustered ? OpenHintStore(options) : null;
        var metrics = new NodeMetrics();
        var view = new ClusterView();
        metrics.ObserveNode(engine.GetStats, () => view.Epoch);
        metrics.ObserveStorage(engine.GetStorageStatus);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(endpoints);
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddSingleton(engine);
        builder.Services.AddSingleton(metrics);
        builder.Services.AddSingleton(secret);
        builder.Services.AddSingleton(tls);
        builder.Services.AddSingleton<CoordinatorClient>();
        builder.Services.AddSingleton(view);
        var clock = new HybridLogicalClock(time, options.MaxClockSkew);
        builder.Services.AddSingleton(clock);
        metrics.ObserveClock(() => clock.Refused);
        builder.Services.AddSingleton<NodeContext>();
        builder.Services.AddSingleton(new ClientTokens(tokens));
        builder.Services.AddSingleton<RespServer>();
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(InstrumentNames.MeterName).AddPrometheusExporter());
        builder.Services.AddRingKvOpenApi("RingKV node", "The v1 API of a RingKV storage node (docs/API.md). Errors are application/problem+json with a stable type.");
        if (options.IsClustered)
        {
            builder.Services.AddSingleton(hintStore!);
            builder.Services.AddHostedService<HintedHandoff>();
            builder.Services.AddSingleton<GrpcReplicaTransport>();
            builder.Services.AddSingleton<IReplicaTransport>(services => services.GetRequiredService<GrpcReplicaTransport>());
            builder.Services.AddSingleton<IKeyValueService, ReplicatedKeyValueService>();
            builder.Services.AddHostedService<MembershipAgent>();
            var antiEntropy = new AntiEntropyOptions();
            if (options.AntiEntropyPause is { } pause)
            {
                antiEntropy.PauseBetweenRounds = pause;
            }
            builder.Services.AddSingleton(antiEntropy);
            builder.Services.AddSingleton<AntiEntropyProgress>();
            var census = new TombstoneCensus(time);
            builder.Services.AddSingleton(census);
            builder.Services.AddSingleton<QuietReport>();
            builder.Services.AddSingleton<TombstonePurger>();
            metrics.ObserveTombstones(census);
            builder.Services.AddHostedService<AntiEntropyService>();
            builder.Services.AddGrpc(grpc =>
            {
                grpc.MaxReceiveMessageSize = ServerLimits.InternodeMaxMessageBytes;
                grpc.EnableDetailedErrors = false;
            });
        }
        else
        {
            builder.Services.AddSingleton<IKeyValueService, LocalKeyValueService>();
        }

        var app = builder.Build();
        // The engine flushes and closes after Kestrel has drained in-flight requests.
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
            hintStore?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            diskGuard?.Dispose();
        });
        UseCommonPipeline(app, options.MaxKeyBytes);
        var audit = app.Services.GetRequiredService<AuditLog>();
        if (options.IsClustered)
        {
            app.Use((context, next) =>
            {
                if (!IsInternodePort(context, endpoints))
                {
                    return next(context);
                }
                if (!context.Request.Path.StartsWithSegments("/ringkv.internode.v1.Internode"))
                {
                    return Problem.WriteAsync(context, 404, "no-such-endpoint", "Internode port", "This is the internode port; clients use the client port.");
                }
                if (!secret.Matches(context.Request))
                {
                    metrics.Rejected("internode");
                    audit.ClusterSecretRefused(context, "internode", context.Request.Headers.ContainsKey(ClusterSecret.HeaderName));
                    return Problem.WriteAsync(context, 401, "cluster-secret-required", "Not a member of this cluster", "Internode calls need the cluster secret.");
                }
                // A member's batch may be larger than one client value; gRPC's message limit bounds it.
                if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } body)
                {
                    body.MaxRequestBodySize = ServerLimits.InternodeMaxMessageBytes + GrpcMessagePrefixBytes;
                }
                return next(context);
            });
            app.MapGrpcService<InternodeService>();
        }
        // After the internode gate: client tokens mean nothing on the internode port, which answers members only.
        if (tokens is not null)
        {
            app.UseClientAuthentication(tokens, audit);
        }
        app.MapGet("/health/live", () => Results.Json(new HealthStatus("live"), NodeJsonContext.Default.HealthStatus))
            .WithName("live").WithTags("health").WithSummary("The process runs")
            .AnswersJson<ApiHealth>(200, "live");
        app.MapGet("/health/ready", (ClusterView clusterView) => !options.IsClustered || (clusterView.SelfId is { } self && clusterView.Map?.FindMember(self) is not null)
            ? Results.Json(new HealthStatus("ready"), NodeJsonContext.Default.HealthStatus)
            : Results.Json(new HealthStatus("joining"), NodeJsonContext.Default.HealthStatus, statusCode: 503))
            .WithName("ready").WithTags("health").WithSummary("The engine is open and, in a cluster, the node is a member")
            .AnswersJson<ApiHealth>(200, "ready")
            .AnswersJson<ApiHealth>(503, "joining: not admitted to the cluster yet");
        // Not in the OpenAPI document: the exporter maps a RequestDelegate, which the generator skips (docs/API.md lists it).
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapRingKvOpenApi();
        app.MapKvApi();
        app.MapNodeClusterApi();
        app.MapAntiEntropyApi();
        app.MapBackupApi();
        return app;
    }

    /// <summary>Logging for every RingKV process: warnings and up, plus RingKV's own information (rare by rule: joins, map changes).</summary>
    public static void ConfigureLogging(ILoggingBuilder logging)
    {
        logging.SetMinimumLevel(LogLevel.Warning);
        logging.AddFilter("RingKv", LogLevel.Information);
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        // The Raft library logs every failed call to a member that is down with a stack trace:
        // the coordinator group reports members' state itself (GET /v1/cluster, metrics).
        logging.AddFilter("DotNext", LogLevel.Error);
        logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
        });
    }

    /// <summary>Error handling shared by nodes and the coordinator: every error the process answers is problem+json.</summary>
    public static void UseCommonPipeline(WebApplication app, int maxKeyBytes)
    {
        app.UseExceptionHandler(errors => errors.Run(context => Problem.WriteAsync(context, 500, "internal-error", "Internal error",
            "The node failed to handle the request. It has been logged; retry, and report it if it persists.")));
        app.UseStatusCodePages(context => context.HttpContext.Response.StatusCode switch
        {
            StatusCodes.Status404NotFound => Problem.WriteAsync(context.HttpContext, 404, "no-such-endpoint", "No such endpoint",
                "This path is not part of the API. Keys live under /v1/kv/{key}; see docs/API.md."),
            StatusCodes.Status405MethodNotAllowed => Problem.WriteAsync(context.HttpContext, 405, "method-not-allowed", "Method not allowed",
                "This endpoint does not take that method. /v1/kv/{key} takes GET, HEAD, PUT and DELETE; /v1/kv takes GET."),
            var status => Problem.WriteAsync(context.HttpContext, status, "http-" + status, "Request refused", "The request was refused with HTTP status " + status + "."),
        });
        app.Use((context, next) => HasAmbiguousFraming(context.Request)
            ? RefuseAmbiguousFramingAsync(context)
            : next(context));
        app.Use((context, next) => RequestKey.WasRewrittenAwayFromKeys(context)
            ? Problem.InvalidKey(context, KeyRules.Describe(KeyError.DotSegment, maxKeyBytes))
            : next(context));
    }

    /// <summary>
    /// Content-Length together with Transfer-Encoding (RFC 9112 §6.1): Kestrel reads such a body as
    /// chunked, but a proxy in front of us might have framed it by its Content-Length, which is how
    /// request smuggling works. Refused instead, and the connection is closed after the answer.
    /// Kestrel moves such a request's Content-Length aside to X-Content-Length (and leaves nothing in
    /// Content-Length), so that is what gives it away; Content-Length is checked too, in case it stays.
    /// </summary>
    private static bool HasAmbiguousFraming(HttpRequest request) =>
        request.Headers.TransferEncoding.Count > 0 &&
        (request.Headers.ContentLength is not null || request.Headers.ContainsKey("X-Content-Length"));

    private static Task RefuseAmbiguousFramingAsync(HttpContext context)
    {
        context.Response.Headers.Connection = "close";
        return Problem.WriteAsync(context, StatusCodes.Status400BadRequest, "ambiguous-framing", "The request framing is ambiguous",
            "The request has both Content-Length and Transfer-Encoding. Send one of them.");
    }

    private static IHintStore OpenHintStore(NodeOptions options) => options.Engine switch
    {
        "memory" => HintStore.InMemory(HintStoreLimits.Default, TimeProvider.System),
        _ => HintStore.Open(Path.GetFullPath(Path.Combine(options.DataDirectory, "hints")), HintStoreLimits.Default, TimeProvider.System),
    };

    private static bool IsInternodePort(HttpContext context, NodeEndpoints endpoints) =>
        endpoints.Internode?.IPEndPoint is { } internode && context.Connection.LocalPort == internode.Port;

    private static IStorageEngine OpenEngine(NodeOptions options, TimeProvider time, FreeSpaceGuard? diskGuard) => options.Engine switch
    {
        "memory" => new MemoryEngine(time),
        _ => RocksDbEngine.Open(Path.GetFullPath(Path.Combine(options.DataDirectory, "rocksdb")), options.Fsync, time, diskGuard),
    };

    /// <summary>
    /// Protected mode: without authentication configured, a process listens on loopback only, so a
    /// fresh node can never be an open database on a network.
    /// </summary>
    public static IPAddress ParseBindAddress(string text, bool authenticated)
    {
        if (!IPAddress.TryParse(text, out var address))
        {
            throw new ArgumentException($"--bind '{text}' is not an IP address. Use 127.0.0.1 (default) or ::1.");
        }
        if (!IPAddress.IsLoopback(address) && !authenticated)
        {
            throw new ArgumentException(
                $"Refusing to listen on {text}: without authentication RingKV binds to loopback only (protected mode). " +
                "Create a token (./ringkv token create --role admin --auth-file auth.json) and start with --auth-file auth.json, or keep the default 127.0.0.1.");
        }
        return address;
    }
}
