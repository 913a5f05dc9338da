"""The station's own functions (no protocol inside); this package's one shared rule is below."""


def finite(value):
    """Measured values are numbers or absent: NaN (a float32 FFFF FFFF, a meter's usual "not available")
    and the infinities are no reading at all, wherever a value is taken in, kept, aggregated or sent."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value - value == 0
