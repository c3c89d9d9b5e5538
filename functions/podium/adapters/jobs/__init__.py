"""Backends of the external step types (core.ports.JobBackend): the AWS services
(ECS, Batch, Glue, Step Functions) and the local stand-ins of the embedded runtime."""
