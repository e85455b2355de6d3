namespace Kgglm;

internal static class AssemblyMarker
{
}
