namespace Xks.Contracts.KeyCustody.Tests;

public sealed class Gf256Tests
{
    /// <summary>FIPS-197 §5.1.1, Fig. 7: the first row of the S-box, S(00) … S(0f).</summary>
    private static readonly byte[] SboxFirstRow = Convert.FromHexString("637c777bf26b6fc53001672bfed7ab76");

    [Fact]
    public void Add_Fips197Section4_1Example_IsTheXor() => Assert.Equal(0xd4, Gf256.Add(0x57, 0x83));

    // FIPS-197 §4.2: {57} • {83} = {c1}. §4.2.1: {57} • {13} = {fe}, by the xtime chain {57} • {02} = {ae},
    // • {04} = {47}, • {08} = {8e}, • {10} = {07}.
    [Theory]
    [InlineData(0x57, 0x83, 0xc1)]
    [InlineData(0x57, 0x13, 0xfe)]
    [InlineData(0x57, 0x02, 0xae)]
    [InlineData(0x57, 0x04, 0x47)]
    [InlineData(0x57, 0x08, 0x8e)]
    [InlineData(0x57, 0x10, 0x07)]
    // HashiCorp Vault shamir/shamir_test.go, TestField_Mult and TestField_Divide (6 / 3 = 2, so 2 • 3 = 6).
    [InlineData(3, 7, 9)]
    [InlineData(3, 0, 0)]
    [InlineData(2, 3, 6)]
    public void Multiply_PublishedExamples_MatchInBothOrders(int a, int b, int product)
    {
        Assert.Equal(product, Gf256.Multiply((byte)a, (byte)b));
        Assert.Equal(product, Gf256.Multiply((byte)b, (byte)a));
    }

    // {53} • {ca} = {01}: the inverse behind the FIPS-197 §5.1.1 example S({53}) = {ed} (the affine image of {ca}).
    [Fact]
    public void Inverse_Of53_IsCaAndBack()
    {
        Assert.Equal(0xca, Gf256.Inverse(0x53));
        Assert.Equal(0x53, Gf256.Inverse(0xca));
    }

    // FIPS-197 §5.1.1: SubBytes is the inverse followed by the affine transformation; S({53}) = {ed}.
    [Fact]
    public void Inverse_ThroughTheAffineTransformation_GivesTheFips197Sbox()
    {
        Assert.Equal(0xed, Affine(Gf256.Inverse(0x53)));
        for (var a = 0; a < SboxFirstRow.Length; a++)
        {
            Assert.Equal(SboxFirstRow[a], Affine(Gf256.Inverse((byte)a)));
        }

        Assert.Equal(0x16, Affine(Gf256.Inverse(0xff)));
    }

    [Fact]
    public void Inverse_EveryNonZeroElement_MultipliesToOne()
    {
        for (var a = 1; a < 256; a++)
        {
            Assert.Equal(1, Gf256.Multiply((byte)a, Gf256.Inverse((byte)a)));
        }
    }

    [Fact]
    public void Inverse_Zero_IsZero() => Assert.Equal(0, Gf256.Inverse(0));

    [Fact]
    public void Multiply_EveryPair_MatchesTheSlowReference()
    {
        for (var a = 0; a < 256; a++)
        {
            for (var b = 0; b < 256; b++)
            {
                Assert.Equal(SlowMultiply(a, b), Gf256.Multiply((byte)a, (byte)b));
            }
        }
    }

    /// <summary>Schoolbook: the carry-less product (up to degree 14), then long division by 0x11B.</summary>
    private static int SlowMultiply(int a, int b)
    {
        var product = 0;
        for (var i = 0; i < 8; i++)
        {
            if (((b >> i) & 1) == 1)
            {
                product ^= a << i;
            }
        }

        for (var degree = 14; degree >= 8; degree--)
        {
            if (((product >> degree) & 1) == 1)
            {
                product ^= Gf256.Polynomial << (degree - 8);
            }
        }

        return product;
    }

    /// <summary>FIPS-197 (5.1): b'_i = b_i ⊕ b_(i+4) ⊕ b_(i+5) ⊕ b_(i+6) ⊕ b_(i+7) ⊕ c_i with c = {63}.</summary>
    private static int Affine(int b)
    {
        var result = 0;
        for (var i = 0; i < 8; i++)
        {
            var bit = (b >> i) ^ (b >> ((i + 4) % 8)) ^ (b >> ((i + 5) % 8)) ^ (b >> ((i + 6) % 8)) ^ (b >> ((i + 7) % 8)) ^ (0x63 >> i);
            result |= (bit & 1) << i;
        }

        return result;
    }
}
