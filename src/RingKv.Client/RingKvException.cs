using System.Net;

namespace RingKv.Client;

/// <summary>
/// The server answered with an error. Carries the RFC 9457 problem the server sent, so a caller
/// can branch on the stable <see cref="ProblemType"/> and show <see cref="Detail"/> to a user.
/// Transport failures (nothing listening, connection reset, timeout) are not this type: they
/// surface as <see cref="HttpRequestException"/> or <see cref="TaskCanceledException"/>.
/// </summary>
public sealed class RingKvException : Exception
{
    public RingKvException()
        : this(HttpStatusCode.InternalServerError, null, null, null)
    {
    }

    public RingKvException(string message)
        : base(message)
    {
        StatusCode = HttpStatusCode.InternalServerError;
    }

    public RingKvException(string message, Exception innerException)
        : base(message, innerException)
    {
        StatusCode = HttpStatusCode.InternalServerError;
    }

    public RingKvException(HttpStatusCode statusCode, string? problemType, string? title, string? detail)
        : base(Describe(statusCode, problemType, title, detail))
    {
        StatusCode = statusCode;
        ProblemType = problemType;
        Title = title;
        Detail = detail;
    }

    public HttpStatusCode StatusCode { get; }

    /// <summary>The problem's <c>type</c>, e.g. <c>invalid-key</c>; null when the body was not a problem document.</summary>
    public string? ProblemType { get; }

    public string? Title { get; }

    /// <summary>What the server says the user should do about it.</summary>
    public string? Detail { get; }

    private static string Describe(HttpStatusCode statusCode, string? problemType, string? title, string? detail)
    {
        var head = $"{(int)statusCode} {title ?? statusCode.ToString()}";
        if (problemType is not null)
        {
            head += $" ({problemType})";
        }
        return detail is null ? head : $"{head}: {detail}";
    }
}
