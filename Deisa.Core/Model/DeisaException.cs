namespace Deisa.Model;

/// <summary>An error raised by Deisa, carrying the status code that every door reports.</summary>
public class DeisaException : Exception
{
    /// <summary>Creates an error with a status code and a message naming what is wrong.</summary>
    public DeisaException(DeisaStatus status, string message, Exception? inner = null)
        : base(message, inner) => Status = status;

    /// <summary>The status code (never <see cref="DeisaStatus.Ok"/>).</summary>
    public DeisaStatus Status { get; }

    /// <summary>A send or acquire of an array the rank did not declare, naming the arrays it did.</summary>
    public static DeisaException Undeclared(int rank, string array, IEnumerable<string> declared) =>
        Contract($"array '{array}' was not declared by rank {rank}; declared arrays: [{string.Join(", ", declared.Order(StringComparer.Ordinal).Select(a => $"'{a}'"))}]");

    /// <summary>A rank declares the same array twice.</summary>
    public static DeisaException DeclaredTwice(int rank, string array) => Value($"rank {rank} declares array '{array}' twice");

    internal static DeisaException Value(string message) => new(DeisaStatus.Value, message);
    internal static DeisaException Type(string message) => new(DeisaStatus.Type, message);
    internal static DeisaException Contract(string message) => new(DeisaStatus.Contract, message);
    internal static DeisaException Timeout(string message) => new(DeisaStatus.Timeout, message);
    internal static DeisaException State(string message) => new(DeisaStatus.State, message);
}
