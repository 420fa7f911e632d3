/**
 * Where a params type and its JSON Schema disagree, as messages (`never` when they agree):
 * every property of one is a property of the other, and a leaf setting is optional in the type
 * exactly when the schema neither requires it nor gives it a default (ajv fills defaults in
 * before a stage runs). Sections (object schemas with properties) are compared inside; whether
 * a section is present is the composed spec's business. A params field typed as an open record
 * (`llm: Record<string, unknown>`) is read by its own resolver and not compared inside.
 */
export type ParamsSchemaMismatch<P, S, Path extends string = ''> = S extends {
  readonly properties: infer Props;
}
  ? string extends keyof P
    ? never
    :
        | {
            [K in Exclude<keyof P, keyof Props> &
              string]: `${Path}${K}: in the params type, not in the schema`;
          }[Exclude<keyof P, keyof Props> & string]
        | {
            [K in Exclude<keyof Props, keyof P> &
              string]: `${Path}${K}: in the schema, not in the params type`;
          }[Exclude<keyof Props, keyof P> & string]
        | {
            [K in keyof Props & keyof P & string]: Props[K] extends { readonly properties: object }
              ? ParamsSchemaMismatch<NonNullable<P[K]>, Props[K], `${Path}${K}.`>
              : OptionalityMismatch<P, S, Props, K, Path>;
          }[keyof Props & keyof P & string]
  : never;

type OptionalityMismatch<
  P,
  S,
  Props,
  K extends keyof Props & keyof P & string,
  Path extends string,
> =
  IsOptional<P, K> extends SchemaMayOmit<S, Props, K>
    ? never
    : IsOptional<P, K> extends true
      ? `${Path}${K}: optional in the params type, but the schema requires it or gives a default`
      : `${Path}${K}: required in the params type, but the schema neither requires it nor gives a default`;

type IsOptional<T, K extends keyof T> = Record<never, never> extends Pick<T, K> ? true : false;

type SchemaMayOmit<S, Props, K extends keyof Props & string> = Props[K] extends {
  readonly default: unknown;
}
  ? false
  : S extends { readonly required: readonly (infer R)[] }
    ? K extends R
      ? false
      : true
    : true;

/** `unknown` where the params type and schema agree; otherwise a property naming how they differ. */
export type ParamsSchemaCheck<P, S> = [ParamsSchemaMismatch<P, S>] extends [never]
  ? unknown
  : { readonly 'the params type and its schema disagree': ParamsSchemaMismatch<P, S> };
