// The file-level half of `npm run lint:deps`: no import cycle between files anywhere, tests, benchmarks and test
// support included (the folder rule runs over the product's code only; see .dependency-cruiser.mjs).
import product from './.dependency-cruiser.mjs';

export default { ...product, forbidden: product.forbidden.filter((rule) => rule.name === 'no-file-cycle') };
