using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using RingKv.Coordinator.Api;
using RingKv.Coordinator.Changes;
using RingKv.Coordinator.Consensus;
using RingKv.Coordinator.Dashboard;
using RingKv.Coordinator.Gateway;
using RingKv.Coordinator.Launching;
using RingKv.Coordinator.Membership;
using RingKv.Coordinator.Observability;
using RingKv.Coordinator.Transfers;
using RingKv.Core.Keys;
using RingKv.Core.Membership;
using RingKv.Node.Api;
using RingKv.Node.Api.OpenApi;
using RingKv.Node.Hosting;
using RingKv.Node.Observability;
using RingKv.Node.Security;
using RingKv.Node.Security.Tls;

namespace RingKv.Coordinator.Hosting;

/// <summary>Builds and runs the coordinator (the ring server).</summary>
public static class CoordinatorHost
{
    public static WebApplication Build(CoordinatorOptions options, string[]? args = null)
    {
        options.Validate();
        var bind = NodeHost.ParseBindAddress(options.BindAddress, options.AuthFile is not null);
        var tokens = options.AuthFile is { } authFile ? TokenStore.Load(authFile) : null;
        var secret = ClusterSecret.From(options.ClusterSecretFile);
        var tls = ClusterTls.Load(options.TlsCertificateFile, options.TlsKeyFile, options.TlsAuthorityFile);
        var builder = WebApplication.CreateSlimBuilder(args ?? []);
        NodeHost.ConfigureLogging(builder.Logging);
        var nodeLimits = new NodeOptions();
        var listeners = new CoordinatorListeners();
        var self = options.Self;
        if (self is not null)
        {
            // Members of a group on one host share the public ports: the kernel spreads new
            // connections over the members alive (SO_REUSEPORT), so the printed URL outlives any one.
            builder.WebHost.UseSockets(sockets => sockets.CreateBoundListenSocket = SharedPort.Bind);
        }
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            options.Limits.Apply(kestrel.Limits, nodeLimits.MaxValueBytes);
            kestrel.AddServerHeader = false;
            kestrel.Listen(bind, options.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                if (tls.IsEnabled)
                {
                    // Clients of the gateway have no certificate; members show theirs for the control plane.
                    tls.Listen(listen, ClientCertificateMode.AllowCertificate);
                }
                listeners.Http = listen;
            });
            if (self is not null && self.Url.Port != options.Port)
            {
                // The member's own address: the other members pass changes to it while it leads.
                kestrel.Listen(bind, self.Url.Port, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1;
                    if (tls.IsEnabled)
                    {
                        tls.Listen(listen, ClientCertificateMode.AllowCertificate);
                    }
                });
            }
            if (options.RespEnabled)
            {
                // Passed through to nodes as bytes: TLS, when on, is the node's, end to end.
                kestrel.Listen(bind, options.RespPort, listen =>
                {
                    listen.UseConnectionHandler<RespGateway>();
                    listeners.Resp = listen;
                });
            }
        });
        builder.Services.AddSingleton(listeners);
        var dataDirectory = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(dataDirectory);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(secret);
        builder.Services.AddSingleton(tls);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddSingleton<MemberHealthTable>();
        builder.Services.AddSingleton<CoordinatorGroupMetrics>();
        if (self is not null)
        {
            builder.Services.AddSingleton(services => new RaftControlLog(self, options.Group, dataDirectory, options.ReplicationFactor,
                token => services.GetRequiredService<CoordinatorGroupMonitor>().FindLegacyStateAsync(token),
                services.GetRequiredService<CoordinatorGroupMetrics>(), services.GetRequiredService<ILoggerFactory>()));
            builder.Services.AddSingleton<IControlLog>(services => services.GetRequiredService<RaftControlLog>());
            builder.Services.AddSingleton<CoordinatorGroupMonitor>();
            builder.Services.AddHostedService(services => services.GetRequiredService<CoordinatorGroupMonitor>());
            builder.Services.AddHostedService<AdoptedNodes>();
        }
        else
        {
            builder.Services.AddSingleton<IControlLog>(new LocalControlLog(dataDirectory, options.ReplicationFactor));
        }
        builder.Services.AddSingleton(new FailureDetector(new FailureDetectorOptions
        {
            SuspectAfter = options.SuspectAfter,
            EvictionGracePeriod = options.EvictionGracePeriod,
        }));
        builder.Services.AddSingleton(services => new MembershipService(
            services.GetRequiredService<IControlLog>(),
            services.GetRequiredService<FailureDetector>(),
            services.GetRequiredService<TimeProvider>(),
            options.ReplicationFactor,
            options.TokensPerNode,
            services.GetRequiredService<MemberHealthTable>(),
            services.GetRequiredService<AuditLog>(),
            services.GetRequiredService<ILogger<MembershipService>>()));
        builder.Services.AddSingleton<NodeLauncher>();
        builder.Services.AddSingleton(services => new TransferManager(
            services.GetRequiredService<MembershipService>(),
            services.GetRequiredService<TimeProvider>(),
            secret,
            tls,
            services.GetRequiredService<AuditLog>(),
            services.GetRequiredService<ILogger<TransferManager>>())
        { RateLimit = options.TransferRateLimit });
        builder.Services.AddHostedService<FailureMonitor>();
        builder.Services.AddSingleton<MembershipChanges>();
        builder.Services.AddHostedService(services => services.GetRequiredService<MembershipChanges>());
        builder.Services.AddSingleton<PlacementCleanup>();
        builder.Services.AddHostedService(services => services.GetRequiredService<PlacementCleanup>());
        builder.Services.AddSingleton<QuietCluster>();
        builder.Services.AddSingleton<NodeReads>();
        builder.Services.AddSingleton(services => new GatewayProxy(services.GetRequiredService<MembershipService>(), tls, nodeLimits.MaxKeyBytes, nodeLimits.MaxValueBytes));
        var metrics = new NodeMetrics();
        builder.Services.AddSingleton(metrics);
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(InstrumentNames.MeterName).AddPrometheusExporter());
        builder.Services.AddRingKvOpenApi("RingKV coordinator",
            "The v1 API of a RingKV coordinator: the cluster API, and a gateway that forwards a key's requests to one of its replicas (docs/API.md). Errors are application/problem+json with a stable type.");

        var app = builder.Build();
        var membership = app.Services.GetRequiredService<MembershipService>();
        metrics.ObserveCoordinator(() => membership.Map.Epoch, () => membership.Health.Snapshot());
        var launcher = app.Services.GetRequiredService<NodeLauncher>();
        // A single coordinator's nodes stop with it (SIGTERM, then SIGKILL after a grace period). A
        // group member's do not: another member supervises them when this one stops, and `up`
        // stops them all when the cluster stops.
        if (options.Self is null)
        {
            app.Lifetime.ApplicationStopping.Register(() => launcher.DisposeAsync().AsTask().GetAwaiter().GetResult());
        }
        else
        {
            app.Lifetime.ApplicationStopping.Register(launcher.StopSupervising);
        }
        NodeHost.UseCommonPipeline(app, nodeLimits.MaxKeyBytes);
        var audit = app.Services.GetRequiredService<AuditLog>();
        if (tokens is not null)
        {
            app.UseClientAuthentication(tokens, audit);
        }
        if (self is not null)
        {
            // A follower passes changes to the leader with its own credentials towards members.
            app.UseLeaderForwarding(app.Services.GetRequiredService<RaftControlLog>(),
                new HttpClient(tls.Apply(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false, ConnectTimeout = TimeSpan.FromSeconds(2) })) { Timeout = TimeSpan.FromSeconds(70) });
        }
        // The control plane (joins, heartbeats, map fetches) is for members only.
        app.Use((context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments("/internal"))
            {
                return next(context);
            }
            if (!secret.Matches(context.Request))
            {
                metrics.Rejected("control-plane");
                audit.ClusterSecretRefused(context, "control-plane", context.Request.Headers.ContainsKey(ClusterSecret.HeaderName));
                return Problem.WriteAsync(context, 401, "cluster-secret-required", "Not a member of this cluster",
                    "Joins, heartbeats and map fetches need the cluster secret (--cluster-secret-file).");
            }
            if (tls.IsEnabled && !tls.TrustsClient(context.Connection.ClientCertificate))
            {
                metrics.Rejected("control-plane-certificate");
                return Problem.WriteAsync(context, 401, "cluster-certificate-required", "Not a member of this cluster",
                    "Joins, heartbeats and map fetches need a client certificate from the cluster's authority (--tls-cert, --tls-key).");
            }
            return next(context);
        });
        app.MapGet("/health/live", () => "live").WithName("live").WithTags("health").WithSummary("The process runs").Answers(200, "live", "text/plain");
        // Ready once this member has applied a committed state: before that (a group member that
        // has not yet heard from a leader, or caught up from its log) its map is an empty placeholder.
        app.MapGet("/health/ready", (MembershipService membership) => membership.Log.Current is not null
            ? Results.Text("ready")
            : Results.Text("starting: no committed cluster state applied yet", statusCode: 503))
            .WithName("ready").WithTags("health").WithSummary("The coordinator has applied the cluster's committed state")
            .Answers(200, "ready", "text/plain").Answers(503, "starting: no committed cluster state applied yet", "text/plain");
        // Not in the OpenAPI document: the exporter maps a RequestDelegate, which the generator skips (docs/API.md lists it).
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapRingKvOpenApi();
        app.MapCoordinatorApi(nodeLimits.MaxKeyBytes);
        app.MapClusterInsights();
        app.MapCoordinatorGroup();
        app.MapDashboard();
        return app;
    }

    /// <summary>Starts listening and returns the coordinator's URL (the real port when 0 was asked).</summary>
    public static async Task<string> StartAsync(WebApplication app)
    {
        // The log first: the map must be loaded (or the group joined) before anyone asks for it.
        await app.Services.GetRequiredService<IControlLog>().StartAsync(app.Lifetime.ApplicationStopping);
        await app.StartAsync();
        var url = app.Services.GetRequiredService<CoordinatorListeners>().HttpUrl(app.Services.GetRequiredService<ClusterTls>().Scheme);
        var options = app.Services.GetRequiredService<CoordinatorOptions>();
        // Nodes it starts know every member, and move to another when one stops answering.
        app.Services.GetRequiredService<NodeLauncher>().CoordinatorUrl = options.Self is null
            ? url
            : string.Join(',', options.Group.Select(p => p.Url.ToString().TrimEnd('/')));
        return url;
    }

    /// <summary>
    /// Brings the cluster to <paramref name="count"/> running nodes: restarts the members the map
    /// already has (a restarted <c>up</c> finds its data again), then launches new ones.
    /// </summary>
    public static async Task LaunchNodesAsync(WebApplication app, int count, CancellationToken cancellationToken)
    {
        var launcher = app.Services.GetRequiredService<NodeLauncher>();
        var membership = app.Services.GetRequiredService<MembershipService>();
        var existing = membership.Map.Members.Select(m => m.Id).ToList();
        await Task.WhenAll(existing.Select(id => launcher.LaunchAsync(id, cancellationToken)));
        // New members join one at a time: each gets tokens chosen against the ring as it stands.
        for (var i = existing.Count; i < count; i++)
        {
            await launcher.LaunchAsync(null, cancellationToken);
        }
        // Admitted is not yet serving: members after the first join in stages. "Up" means all are up.
        while (membership.Map.Members.Any(m => m.State == Core.Cluster.MemberState.Joining))
        {
            await membership.WaitForNewerAsync(membership.Map.Epoch, TimeSpan.FromSeconds(1), cancellationToken);
        }
    }
}

/// <summary>The coordinator's listeners; Kestrel writes the bound ports back once started (port 0 picks a free one).</summary>
public sealed class CoordinatorListeners
{
    public ListenOptions? Http { get; set; }

    public ListenOptions? Resp { get; set; }

    public string HttpUrl(string scheme) => scheme + "://" + Address(Http ?? throw new InvalidOperationException("Not started."));

    /// <summary><c>redis://host:port</c> (<c>rediss://</c> when the nodes behind it serve TLS); null without the gateway.</summary>
    public string? RespUrl(bool tls) => Resp is null ? null : (tls ? "rediss://" : "redis://") + Address(Resp);

    private static string Address(ListenOptions listen) => listen.IPEndPoint is { } endpoint
        ? (endpoint.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "[" + endpoint.Address + "]" : endpoint.Address.ToString()) + ":" + endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : throw new InvalidOperationException("The listener is not bound yet.");
}
