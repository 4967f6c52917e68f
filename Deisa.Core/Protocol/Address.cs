using System.Net;
using Deisa.Model;

namespace Deisa.Protocol;

/// <summary>
/// A listening address: <c>unix:/path/to/socket</c>, or <c>tcp://host:port</c>. Only loopback
/// TCP is accepted unless <c>allowRemote</c> is given (docs/specification.md §8).
/// </summary>
public sealed record Address(string? UnixPath, IPAddress? Host, int Port)
{
    /// <summary>Where the run's web page and Flight endpoint are served unless told: a free port on loopback.</summary>
    public const string FreeLoopbackPort = "127.0.0.1:0";

    /// <summary>Parses an address string, naming it in the error.</summary>
    public static Address Parse(string text, bool allowRemote = false)
    {
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            var path = text["unix:".Length..];
            if (path.StartsWith("//", StringComparison.Ordinal)) path = path[2..];
            if (path.Length == 0) throw DeisaException.Value($"address '{text}': empty socket path");
            return new Address(path, null, 0);
        }
        var rest = text.StartsWith("tcp://", StringComparison.Ordinal) ? text["tcp://".Length..] : text;
        int colon = rest.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(rest[(colon + 1)..], out int port) || port is < 0 or > 65535)
            throw DeisaException.Value($"address '{text}' is neither 'unix:/path' nor 'tcp://host:port'");
        var hostText = rest[..colon].Trim('[', ']');
        IPAddress host;
        if (hostText == "localhost") host = IPAddress.Loopback;
        else if (!IPAddress.TryParse(hostText, out host!))
        {
            try { host = Dns.GetHostAddresses(hostText).First(); }
            catch (Exception e) { throw DeisaException.Value($"address '{text}': cannot resolve host '{hostText}' ({e.Message})"); }
        }
        if (!allowRemote && !IPAddress.IsLoopback(host) && !host.Equals(IPAddress.Any))
            throw DeisaException.Value($"address '{text}' is not a loopback address; pass it explicitly to listen on the network");
        return new Address(null, host, port);
    }

    /// <summary>The address as text.</summary>
    public override string ToString() => UnixPath is not null ? $"unix:{UnixPath}" : $"tcp://{Host}:{Port}";
}
