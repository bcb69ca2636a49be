export { parseFilter, parseFilters, parseStoreFilters } from "./parser.js";
export {
  always,
  AllOf,
  AnyOf,
  Selector,
  type Adaptor,
  type Filter,
  type Operator,
} from "./filter.js";
export { mapField, messageAdaptor, nonEmpty } from "./adaptors.js";
