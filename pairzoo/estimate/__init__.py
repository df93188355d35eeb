"""Label-free accuracy estimates: methods calibrated on generated shifts of known size."""

# Generated pairs per calibration set (the card's, and one made on demand). A set of 1,000 pairs
# measures its accuracy to about 1.3 points (one standard error), so the fitted line or plane
# moves by as much between calibration draws; at 4,000 the largest held-out error fell from
# 2.3-3.3 to 1.9-2.5 points over three draws (docs/adaptation.md), for about 67 s of an 11-member
# cpu zoo's inference at registration instead of 17.
DEFAULT_PAIRS = 4000
