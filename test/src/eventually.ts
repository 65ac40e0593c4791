// The shared polling helper (packages/test-helpers), for the container and fault suites' imports.
export { eventually } from '@authority/test-helpers';
