// Validates OpenAPI documents with @apidevtools/swagger-parser (the OpenAPI 3.0 schema plus its
// semantic checks: unique operationIds, path parameters, resolvable references).
// Usage: node validate.js DOCUMENT.json... — exit 0 when every document is valid, 1 otherwise,
// 2 when the validator is not installed (tools/install-deps.sh installs it into .deps/node).
'use strict';
const path = require('path');

const modules = path.join(__dirname, '..', '..', '.deps', 'node', 'node_modules');
let SwaggerParser;
try {
  SwaggerParser = require(path.join(modules, '@apidevtools', 'swagger-parser'));
} catch (error) {
  console.error(`swagger-parser is not installed in ${modules}: run tools/install-deps.sh (${error.message})`);
  process.exit(2);
}

async function main(files) {
  let failures = 0;
  for (const file of files) {
    try {
      await SwaggerParser.validate(file);
      console.log(`valid: ${file}`);
    } catch (error) {
      failures += 1;
      console.log(`invalid: ${file}: ${error.message}`);
    }
  }
  return failures === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => process.exit(code));
