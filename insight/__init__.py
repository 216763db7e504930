"""Customer insight: a tag library over time, an arrears-risk model, fault and complaint hot spots by line and 台区,
segmentation. Jobs are Ibis expressions written once and run on DuckDB (embedded default) or Spark (scale)."""
