//! Meeting actor (stub; being written).
