using System.Buffers;
using System.Text;

namespace Xks.Proxy.Authentication;

/// <summary>A growable byte buffer rented from the shared pool, for building canonical requests without garbage.</summary>
internal ref struct AsciiBuffer
{
    private byte[] _array;
    private int _length;

    public AsciiBuffer(int capacity)
    {
        _array = ArrayPool<byte>.Shared.Rent(capacity);
        _length = 0;
    }

    public readonly ReadOnlySpan<byte> Written => _array.AsSpan(0, _length);

    public void Append(scoped ReadOnlySpan<char> text)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        Ensure(max);
        _length += Encoding.UTF8.GetBytes(text, _array.AsSpan(_length));
    }

    public void Append(scoped ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_array.AsSpan(_length));
        _length += bytes.Length;
    }

    public void Append(byte b)
    {
        Ensure(1);
        _array[_length++] = b;
    }

    public void AppendLowerHex(scoped ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length * 2);
        Convert.TryToHexStringLower(bytes, _array.AsSpan(_length), out var written);
        _length += written;
    }

    public void Dispose()
    {
        var array = _array;
        _array = [];
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    private void Ensure(int more)
    {
        if (_length + more <= _array.Length)
        {
            return;
        }

        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_array.Length * 2, _length + more));
        _array.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_array);
        _array = bigger;
    }
}
