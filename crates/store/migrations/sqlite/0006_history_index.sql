-- 修改历史查询: one module newest first, and one module and field newest first.
CREATE INDEX record_history_module_id ON record_history(module, id);
CREATE INDEX record_history_module_field ON record_history(module, field, id);
