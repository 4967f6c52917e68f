using System.Security.Cryptography;
using System.Text;

namespace Deisa.Flight;

/// <summary>The session token every Flight call must carry, as "authorization: Bearer TOKEN".</summary>
internal sealed class FlightToken(string token)
{
    /// <summary>What a refused call is told.</summary>
    public const string Asked = "send the session token as 'authorization: Bearer TOKEN'";

    private readonly byte[] _bytes = Encoding.UTF8.GetBytes(token);

    /// <summary>The authorization header carries the token (compared in constant time).</summary>
    public bool Accepts(string? authorization) =>
        authorization is not null && authorization.StartsWith("Bearer ", StringComparison.Ordinal)
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(authorization["Bearer ".Length..].Trim()), _bytes);
}
