namespace RingKv.Node.Security;

/// <summary>What a client token may do. Each role includes the ones before it.</summary>
public enum Role
{
    /// <summary>GET, HEAD and listing of keys; reading the cluster's state.</summary>
    Read = 1,

    /// <summary>Also PUT and DELETE of keys.</summary>
    Write = 2,

    /// <summary>Also cluster changes (add and remove nodes, cancel transfers), <c>/v1/local</c> and <c>/v1/admin</c> (backup and restore).</summary>
    Admin = 3,
}
