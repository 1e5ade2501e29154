"""vatio inside the tools people already run: Prometheus, MLflow, Transformers, Lightning.

Each integration is its own module with its own extra (`vatio[prometheus]`,
`vatio[mlflow]`, `vatio[transformers]`, `vatio[lightning]`); nothing here is
imported by `import vatio`, and each module imports its library only when used.
"""
