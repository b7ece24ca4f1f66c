namespace Xks.Contracts.ProxyConfig;

/// <summary>
/// The one pattern language of the project: <c>*</c> stands for any run of characters (including none), everything
/// else is literal. The proxy matches authorization rules with it (allowed principals); the operator its allow-lists
/// (role ARNs, proxy images, PKCS#11 libraries, annotation keys). Allocation-free: it runs on the proxy's hot path.
/// </summary>
public static class Wildcard
{
    public static bool Matches(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] != '*' && pattern[p] == text[t])
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
