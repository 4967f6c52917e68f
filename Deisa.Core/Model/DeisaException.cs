using Deisa.Analytics;
namespace Deisa.Model;

/// <summary>An error raised by Deisa, carrying the status code that every door reports.</summary>
public class DeisaException : Exception
{
    /// <summary>Creates an error with a status code and a message naming what is wrong.</summary>
    public DeisaException(DeisaStatus status, string message, Exception? inner = null)
        : base(message, inner) => Status = status;

    /// <summary>The status code (never <see cref="DeisaStatus.Ok"/>).</summary>
    public DeisaStatus Status { get; }

    internal static DeisaException Value(string message) => new(DeisaStatus.Value, message);
    internal static DeisaException Type(string message) => new(DeisaStatus.Type, message);
    internal static DeisaException Contract(string message) => new(DeisaStatus.Contract, message);
    internal static DeisaException Timeout(string message) => new(DeisaStatus.Timeout, message);
    internal static DeisaException State(string message) => new(DeisaStatus.State, message);
}
